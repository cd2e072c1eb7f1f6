"""Masks secrets (auth headers, cookies, API keys, token query parameters) before anything is logged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
_SECRET_PARAM = re.compile(r"(token|key|secret|password|passwd|signature|auth|session|credential)", re.IGNORECASE)


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


def text(value: str, secrets: frozenset[str] | set[str] = frozenset()) -> str:
    """`value` with every known secret value replaced by the mask."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and len(secret) >= 4:
            value = value.replace(secret, MASK)
    return value
