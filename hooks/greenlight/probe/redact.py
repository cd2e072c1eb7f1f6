"""Masks secrets (auth headers, cookies, API keys, token query parameters) before anything is logged.

Two layers: callers mask what they build (`headers`, `url`, `text`), and `install_log_redaction()`
masks every log record of the process, so a library logging at DEBUG (urllib3 logs request lines
with their query strings, botocore logs response bodies) cannot leak a secret value or a token.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-amz-security-token",
    }
)
_SECRET_WORDS = r"token|key|secret|password|passwd|signature|auth|session|credential|jwt|sig"  # nosec B105  # names to mask
_SECRET_PARAM = re.compile(rf"({_SECRET_WORDS})", re.IGNORECASE)
# `name=value` inside free text (a request line, an error message) whose name looks secret.
_PARAM_IN_TEXT = re.compile(rf"([?&;][^=&\s#\"']*(?:{_SECRET_WORDS})[^=&\s#\"']*=)([^&\s#\"']+)", re.IGNORECASE)
# `Authorization: Bearer x`, `'Cookie': 'a=b'`, `x-api-key=...` inside free text.
_HEADER_IN_TEXT = re.compile(
    r"((?:proxy-)?authorization|set-cookie|cookie|x-api-key|x-auth-token|x-amz-security-token)"
    r"(['\"]?\s*[:=]\s*b?['\"]?)([^'\"\r\n]+)",
    re.IGNORECASE,
)
_SECRET_ANSWER = re.compile(r"SecretString|SecretBinary|SecureString")
# Values shorter than this are not masked inside free text: they would mask innocent words.
_MIN_SECRET = 4
_MAX_REMEMBERED = 256


def is_secret_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_HEADERS or bool(re.search(r"(token|secret|api[-_]?key|password)", lowered))


def headers(values: Mapping[str, str], extra_secrets: frozenset[str] = frozenset()) -> dict[str, str]:
    """A copy of `values` with secret header values masked."""
    return {k: MASK if is_secret_header(k) or k.lower() in extra_secrets else v for k, v in values.items()}


def url(value: str) -> str:
    """A URL with user info and secret-looking query parameters masked."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _forms(secret: str) -> set[str]:
    """The ways a value shows up in text: as is, escaped by repr() or JSON, or percent-encoded."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], quote(secret, safe="")}
    return {f for f in forms if len(f) >= _MIN_SECRET}


def text(value: str, secrets: Iterable[str] = ()) -> str:
    """`value` with every known secret value (in any of its usual escaped forms) replaced by the mask."""
    forms: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET:
            forms |= _forms(secret)
    for form in sorted(forms, key=len, reverse=True):
        value = value.replace(form, MASK)
    return value


# --- process-wide masking of log records ------------------------------------------------------------

_remembered: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()
_installed = False


def remember(secret: str) -> None:
    """Mask `secret` in every later log record of this process (bounded: the oldest are forgotten)."""
    if not secret or len(secret) < _MIN_SECRET:
        return
    with _lock:
        _remembered[secret] = None
        _remembered.move_to_end(secret)
        while len(_remembered) > _MAX_REMEMBERED:
            _remembered.popitem(last=False)


def forget_all() -> None:
    """Drop every remembered secret (tests; a process that starts over)."""
    with _lock:
        _remembered.clear()


def mask_text(value: str) -> str:
    """Free text with remembered secrets, secret-looking query parameters and auth header values masked."""
    with _lock:
        known = list(_remembered)
    value = text(value, known)
    # An AWS answer that carries a secret (botocore logs every response body at DEBUG, before the caller
    # has the value and could remember it): everything from the secret's field on is dropped.
    found = _SECRET_ANSWER.search(value)
    if found:
        value = value[: found.start()] + f"{found.group(0)} {MASK} (secret value masked)"
    value = _PARAM_IN_TEXT.sub(lambda m: m.group(1) + MASK, value)
    return _HEADER_IN_TEXT.sub(lambda m: m.group(1) + m.group(2) + MASK, value)


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit its format: leave it to logging's own report
        return
    masked = mask_text(message)
    if masked != message:
        record.msg, record.args = masked, None


def install_log_redaction() -> None:
    """Mask every log record created in this process from now on (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _mask_record(record)
        return record

    logging.setLogRecordFactory(factory)
