"""Secret header values: fetched at run time from Secrets Manager or SSM, cached briefly, never logged."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from greenlight.checks.base import CheckContext

# Seconds a fetched secret is reused by warm invocations: bounded so a rotation is picked up.
CACHE_SECONDS = 300


class SecretError(Exception):
    """A secret reference could not be resolved (the message never contains the value)."""


def _provider(kind: str, ctx: CheckContext) -> Any:
    from aws_lambda_powertools.utilities import parameters

    aws = ctx.aws
    if kind == "secretsmanager":
        client = aws.client("secretsmanager") if aws is not None else None
        return parameters.SecretsProvider(boto3_client=client) if client else parameters.SecretsProvider()
    client = aws.client("ssm") if aws is not None else None
    return parameters.SSMProvider(boto3_client=client) if client else parameters.SSMProvider()


_PROVIDERS: dict[tuple[str, int], Any] = {}


def resolve(ref: str, ctx: CheckContext) -> str:
    """The value behind `secretsmanager:NAME[#json_key]` or `ssm:/name` (SecureString decrypted)."""
    kind, _, name = ref.partition(":")
    key = None
    if kind == "secretsmanager" and "#" in name:
        name, _, key = name.partition("#")
    cache_key = (kind, id(ctx.aws))
    provider = _PROVIDERS.get(cache_key) or _PROVIDERS.setdefault(cache_key, _provider(kind, ctx))
    try:
        if kind == "secretsmanager":
            value = provider.get(name, max_age=CACHE_SECONDS)
        else:
            value = provider.get(name, max_age=CACHE_SECONDS, decrypt=True)
    except Exception as exc:
        cause = exc.__cause__ or exc
        code = getattr(cause, "response", {}).get("Error", {}).get("Code") or type(cause).__name__
        raise SecretError(f"cannot read secret {ref}: {code}") from None
    if isinstance(value, bytes):
        value = value.decode()
    if key is not None:
        try:
            value = json.loads(value)[key]
        except (ValueError, KeyError, TypeError):
            raise SecretError(f"secret {ref}: no JSON key {key!r} in the secret") from None
    return str(value)


def resolve_headers(spec_headers: Mapping[str, Any], ctx: CheckContext) -> tuple[dict[str, str], set[str]]:
    """Header values with secret references resolved, and the set of secret values (for masking)."""
    headers: dict[str, str] = {}
    secrets: set[str] = set()
    for name, value in spec_headers.items():
        if isinstance(value, Mapping):
            secret = resolve(value["secret"], ctx)
            secrets.add(secret)
            headers[name] = f"{value.get('prefix', '')}{secret}"
        else:
            headers[name] = str(value)
    return headers, secrets
