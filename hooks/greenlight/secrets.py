"""Secret header values: fetched at run time from Secrets Manager or SSM, cached briefly, never logged.

A reference is `secretsmanager:NAME[#json_key]` or `ssm:/parameter/name` (a SecureString is decrypted).
Every fetch is bounded by wall clock (the check's deadline and FETCH_TIMEOUT), so a slow or
throttled API turns into a SecretError in time, and the hook still reports. Values are cached per
endpoint, region and name for CACHE_SECONDS in a cache of at most CACHE_ENTRIES entries, and each
value is remembered by the log redaction, so no log line of the process can carry it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from greenlight.aws.errors import DENIED, error_code
from greenlight.probe import redact

if TYPE_CHECKING:
    from greenlight.engine.check import CheckContext

# Seconds a fetched secret is reused by warm invocations: bounded so a rotation is picked up.
CACHE_SECONDS = 300.0
CACHE_ENTRIES = 64
# Wall-clock bound of one fetch, retries included (botocore's own timeouts are per attempt).
FETCH_TIMEOUT = 10.0


class SecretError(Exception):
    """A secret reference could not be resolved (the message never contains the value)."""


_cache: OrderedDict[tuple[str, ...], tuple[float, str]] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached value (tests; a forced re-read after a rotation)."""
    with _lock:
        _cache.clear()


def _cached(key: tuple[str, ...]) -> str | None:
    with _lock:
        hit = _cache.get(key)
        if hit is None:
            return None
        fetched, value = hit
        if time.monotonic() - fetched > CACHE_SECONDS:
            del _cache[key]
            return None
        _cache.move_to_end(key)
        return value


def _store(key: tuple[str, ...], value: str) -> None:
    with _lock:
        _cache[key] = (time.monotonic(), value)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)


def _client(kind: str, ctx: CheckContext) -> Any:
    service = "secretsmanager" if kind == "secretsmanager" else "ssm"
    if ctx.aws is not None:
        return ctx.aws.client(service)
    from greenlight.aws import AwsClients

    return AwsClients().client(service)


def _read(kind: str, name: str, client: Any) -> str:
    if kind == "secretsmanager":
        answer = client.get_secret_value(SecretId=name)
        if answer.get("SecretString") is not None:
            return str(answer["SecretString"])
        raw = answer.get("SecretBinary") or b""
        return raw.decode() if isinstance(raw, bytes) else str(raw)
    return str(client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])


def _fetch_bounded(kind: str, name: str, client: Any, ref: str, limit: float) -> str:
    """`_read` in a daemon thread, waited for at most `limit` seconds."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            with redact.secret_fetch():
                box["value"] = _read(kind, name, client)
        except Exception as exc:  # reported below without the exception's own text
            box["error"] = exc

    worker = threading.Thread(target=work, name=f"greenlight-secret-{kind}", daemon=True)
    worker.start()
    worker.join(max(limit, 0.0))
    if "value" in box:
        return str(box["value"])
    if "error" in box:
        code = error_code(box["error"]) or type(box["error"]).__name__
        hint = ""
        if code in DENIED:
            action = (
                "secretsmanager:GetSecretValue" if kind == "secretsmanager" else "ssm:GetParameter (and kms:Decrypt)"
            )
            hint = f"; the hook's role needs {action} on it"
        raise SecretError(f"cannot read secret {ref}: {code}{hint}")
    raise SecretError(f"cannot read secret {ref}: no answer within {limit:.1f}s")


def _parse_ref(ref: str) -> tuple[str, str, str | None]:
    kind, sep, name = ref.partition(":")
    if not sep or kind not in ("secretsmanager", "ssm") or not name:
        raise SecretError(f"{ref!r} is not a secret reference ('secretsmanager:NAME[#key]' or 'ssm:/name')")
    key = None
    if kind == "secretsmanager" and "#" in name:
        name, _, key = name.partition("#")
    return kind, name, key


def resolve(ref: str, ctx: CheckContext) -> str:
    """The value behind `secretsmanager:NAME[#json_key]` or `ssm:/name` (SecureString decrypted)."""
    redact.install_log_redaction()
    kind, name, key = _parse_ref(ref)
    client = _client(kind, ctx)
    meta = getattr(client, "meta", None)
    cache_key = (kind, str(getattr(meta, "endpoint_url", "")), str(getattr(meta, "region_name", "")), name)
    value = _cached(cache_key)
    if value is None:
        limit = min(FETCH_TIMEOUT, ctx.deadline.remaining())
        value = _fetch_bounded(kind, name, client, ref, limit)
        redact.remember(value)
        _store(cache_key, value)
    if key is not None:
        try:
            field = json.loads(value)[key]
        except (ValueError, KeyError, TypeError):
            raise SecretError(f"secret {ref}: no JSON key {key!r} in the secret") from None
        value = field if isinstance(field, str) else json.dumps(field)
        redact.remember(value)
    # Header values cannot start or end with white space (RFC 9110), and a value stored with a trailing
    # newline is common: strip it rather than have the HTTP library reject (and quote) the header.
    value = value.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise SecretError(f"secret {ref} contains a control character (a line break?); it cannot be a header value")
    redact.remember(value)
    return value


def resolve_headers(spec_headers: Mapping[str, Any], ctx: CheckContext) -> tuple[dict[str, str], set[str]]:
    """Header values with secret references resolved, and the set of secret values (for masking)."""
    headers: dict[str, str] = {}
    secrets: set[str] = set()
    for name, value in spec_headers.items():
        if isinstance(value, Mapping):
            secret = resolve(value["secret"], ctx)
            secrets.add(secret)
            headers[name] = f"{value.get('prefix', '')}{secret}"
            secrets.add(headers[name])
        else:
            headers[name] = str(value)
            if redact.is_secret_header(name):
                # A credential written in the spec (often `${VAR}` from the environment) is as secret as a
                # fetched one: masked in every output, whole and without its scheme word.
                for form in redact.header_secrets(headers[name]):
                    secrets.add(form)
                    redact.remember(form)
    return headers, secrets
