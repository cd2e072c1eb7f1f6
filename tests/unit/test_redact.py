"""Masking secrets before anything is logged: header values, URLs, and known secret values in free text."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from greenlight.probe import redact
from greenlight.probe.redact import MASK


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "proxy-authorization",
        "Cookie",
        "Set-Cookie",
        "X-Api-Key",
        "x-api_key",
        "X-Auth-Token",
        "X-Amz-Security-Token",
        "X-Session-Token",
        "X-Client-Secret",
        "X-Db-Password",
    ],
)
def test_redact_secret_header_names(name: str) -> None:
    # GIVEN a header name that carries credentials
    # WHEN it is classified
    # THEN it is secret
    assert redact.is_secret_header(name)


@pytest.mark.parametrize("name", ["Accept", "User-Agent", "X-App-Version", "Host", "Content-Type", "X-Trace-Id"])
def test_redact_plain_header_names(name: str) -> None:
    # GIVEN an ordinary header name
    # WHEN it is classified
    # THEN it is not secret
    assert not redact.is_secret_header(name)


def test_redact_headers_masks_only_secret_values() -> None:
    # GIVEN request headers, one of them secret only because the spec took it from a secret reference
    values = {"Authorization": "Bearer abc.def", "Accept": "application/json", "X-Custom": "from-a-secret"}
    # WHEN they are masked
    masked = redact.headers(values, extra_secrets=frozenset({"x-custom"}))
    # THEN secret values are masked, the others kept, and the input left alone
    assert masked == {"Authorization": MASK, "Accept": "application/json", "X-Custom": MASK}
    assert values["Authorization"] == "Bearer abc.def"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("http://lb.example:9080/health", "http://lb.example:9080/health"),
        ("http://user:pw@lb.example/health", f"http://{MASK}@lb.example/health"),
        ("https://lb/h?token=abc&page=2", f"https://lb/h?token={MASK}&page=2"),
        ("https://lb/h?X-Amz-Signature=abc&api_key=k&v=1", f"https://lb/h?X-Amz-Signature={MASK}&api_key={MASK}&v=1"),
        ("https://lb/h?password=&q=x", f"https://lb/h?password={MASK}&q=x"),
        ("http://[::1/health", MASK),
    ],
    ids=["plain", "userinfo", "token-param", "signature-and-key", "empty-secret", "malformed"],
)
def test_redact_url(raw: str, shown: str) -> None:
    # GIVEN a URL that may carry credentials
    # WHEN it is masked for a log line
    # THEN user info and secret-looking parameters are masked, the rest kept
    assert redact.url(raw) == shown


def test_redact_text_masks_known_secret_values() -> None:
    # GIVEN an error message that quotes a secret value
    secret = "s3cr3t-Token-value"
    message = f"header value 'Bearer {secret}' rejected"
    # WHEN it is masked with the secrets known
    masked = redact.text(message, {secret})
    # THEN the value is gone and the rest of the message stays readable
    assert masked == f"header value 'Bearer {MASK}' rejected"


def test_redact_text_masks_escaped_forms() -> None:
    # GIVEN a secret with characters that repr(), JSON and URLs escape
    secret = 'pa"ss\\word/+1'
    message = " | ".join([repr(secret), json.dumps(secret), quote(secret, safe="")])
    # WHEN it is masked
    masked = redact.text(message, [secret])
    # THEN no form of the secret survives
    assert "pa" not in masked.replace(MASK, "")
    assert masked.count(MASK) == 3


def test_redact_text_longest_secret_first() -> None:
    # GIVEN two secrets where one contains the other
    short, long = "abcd", "abcd-efgh-ijkl"
    # WHEN a text containing the longer one is masked
    masked = redact.text(f"key={long}", [short, long])
    # THEN the whole longer value is masked, not only its prefix
    assert masked == f"key={MASK}"


def test_redact_text_ignores_very_short_values() -> None:
    # GIVEN a "secret" of three characters, too short to mask safely inside prose
    # WHEN a sentence containing it is masked
    masked = redact.text("the answer was yes", ["yes", ""])
    # THEN the sentence is left alone
    assert masked == "the answer was yes"


def test_redact_mask_text_free_text_parameters_and_headers() -> None:
    # GIVEN a library log line with a token in a query string and an Authorization header
    line = "GET /health?access_token=abc123&x=1 HTTP/1.1 Authorization: Bearer xyz789"
    # WHEN it is masked without knowing any secret values
    masked = redact.mask_text(line)
    # THEN both values are masked and the structure kept
    assert "abc123" not in masked
    assert "xyz789" not in masked
    assert masked.startswith("GET /health?access_token=")
    assert "&x=1" in masked
