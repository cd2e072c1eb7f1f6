"""Masks secrets (auth headers, cookies, API keys, token query parameters) before anything is logged.

Two layers: callers mask what they build (`headers`, `url`, `text`), and `install_log_redaction()`
masks every log record of the process, so a library logging at DEBUG (urllib3 logs request lines
with their query strings, botocore logs response bodies) cannot leak a secret value or a token.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

MASK = "***"
# Header names whose values are credentials; also any name containing one of _SECRET_HEADER_WORDS
# (X-Session-Token, X-Client-Secret, X-Api-Key, X-Auth-User, X-Db-Password, ...).
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
_SECRET_HEADER_WORDS = re.compile(r"token|secret|key|auth|passw|cookie|session|credential|signature")
_SECRET_WORDS = r"token|key|secret|password|passwd|signature|auth|session|credential|jwt|sig"  # nosec B105  # names to mask
_SECRET_PARAM = re.compile(rf"({_SECRET_WORDS})", re.IGNORECASE)
# `name=value` inside free text (a request line, an error message, a URL an exception quotes) whose name
# looks secret. Quantifiers are bounded: these patterns run over every log record, whatever its size.
_PARAM_IN_TEXT = re.compile(
    rf"([?&;][^=&\s#\"']{{0,64}}?(?:{_SECRET_WORDS})[^=&\s#\"']{{0,64}}=)([^&\s#\"']+)", re.IGNORECASE
)
# `Authorization: Bearer x`, `'Cookie': 'a=b'`, `x-api-key=...` inside free text; and any other
# secret-looking header written `X-Session-Token: ...` or `'X-Client-Secret': '...'` (a colon only, so a
# query parameter, masked by _PARAM_IN_TEXT, does not swallow the rest of the line).
_HEADER_IN_TEXT = re.compile(
    r"((?:proxy-)?authorization|set-cookie|cookie|x-api-key|x-auth-token|x-amz-security-token)"
    r"(['\"]?\s*[:=]\s*b?['\"]?)([^'\"\r\n]+)"
    r"|\b([A-Za-z][\w-]{0,40}?(?:token|secret|api-key|api_key|apikey|password)[\w-]{0,40})"
    r"(['\"]?\s*:\s*b?['\"]?)([^'\"\r\n]+)",
    re.IGNORECASE,
)
_SECRET_ANSWER = re.compile(r"SecretString|SecretBinary|SecureString")
# Values shorter than this are not masked inside free text: they would mask innocent words.
_MIN_SECRET = 4
_MAX_REMEMBERED = 256
# Values remembered for masking (process-wide: log records come from every thread and library).
_remembered: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()


def is_secret_header(name: str) -> bool:
    """True for a header whose value is a credential: a known name, or one containing a secret-sounding word."""
    lowered = name.lower()
    return lowered in SECRET_HEADERS or bool(_SECRET_HEADER_WORDS.search(lowered))


def header_secrets(value: str) -> set[str]:
    """The values to mask for a sensitive header: the whole value and its credentials without the scheme.

    `Bearer abc123` is masked whole, and `abc123` alone too, since a server that echoes the token back
    rarely echoes the scheme word with it.
    """
    found = {value, value.strip()}
    _, _, credentials = value.strip().partition(" ")
    if credentials.strip():
        found.add(credentials.strip())
    return {v for v in found if len(v) >= _MIN_SECRET}


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


def _replace_known(value: str, secrets: Iterable[str]) -> str:
    forms: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET:
            forms |= _forms(secret)
    for form in sorted(forms, key=len, reverse=True):
        value = value.replace(form, MASK)
    return value


def text(value: str, secrets: Iterable[str] = ()) -> str:
    """`value` masked for any output: the one mechanism behind reasons, reports, hook answers and log records.

    Masked are `secrets` and every value remembered by this process (in any of their usual escaped
    forms), secret-looking query parameters (a URL quoted by a TLS or connection error) and the values
    of secret-looking headers written out in the text.
    """
    with _lock:
        known = [*secrets, *_remembered]
    value = _replace_known(value, known)
    value = _PARAM_IN_TEXT.sub(lambda m: m.group(1) + MASK, value)
    return _HEADER_IN_TEXT.sub(_mask_header, value)


def _mask_header(m: re.Match[str]) -> str:
    name, sep = (m.group(1), m.group(2)) if m.group(1) is not None else (m.group(4), m.group(5))
    return name + sep + MASK


# --- process-wide masking of log records ------------------------------------------------------------

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
    """A log record's text masked as `text` does, and an AWS answer that carries a secret cut short."""
    # botocore logs every response body at DEBUG, before the caller has the value and could remember it:
    # everything from the secret's field on is dropped.
    found = _SECRET_ANSWER.search(value)
    if found:
        value = value[: found.start()] + f"{found.group(0)} {MASK} (secret value masked)"
    return text(value)


_fetching = threading.local()
# Where a record made during a secret fetch stops being shown: its first structure or bytes literal.
_STRUCTURE = re.compile(r"[{\[]|b'|b\"")


@contextlib.contextmanager
def secret_fetch() -> Iterator[None]:
    """While this thread fetches a secret, every log record it makes is masked from its first structure on.

    The value is not known until the answer is parsed, but botocore logs the answer (at DEBUG) before
    that: a `String` SSM parameter carries no marker such as SecureString, so only where it was logged
    from tells it is secret. The operation names and the text before the data stay readable.
    """
    _fetching.active = True
    try:
        yield
    finally:
        _fetching.active = False


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit its format: leave it to logging's own report
        return
    if getattr(_fetching, "active", False):
        cut = _STRUCTURE.search(message)
        if cut is not None:
            message = message[: cut.start()] + f"{MASK} (made while fetching a secret)"
            record.msg, record.args = message, None
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
