"""Helpers shared by the moto extensions: input checks that name the bad value, model enums, backends."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any


class UnknownResourceError(LookupError):
    """A backdoor was asked about a resource the twin does not hold."""


@cache
def service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@cache
def enum(service: str, shape: str) -> tuple[str, ...]:
    """The allowed values of a botocore enum shape (the real API's vocabulary)."""
    return tuple(service_model(service).shape_for(shape).enum)


def choice(value: Any, allowed: Iterable[str], what: str, *, fold_case: bool = False) -> str:
    """`value` if it is one of `allowed` (matched case-insensitively if asked), else a ValueError."""
    options = tuple(allowed)
    if isinstance(value, str):
        if value in options:
            return value
        if fold_case:
            for option in options:
                if option.lower() == value.lower():
                    return option
    hint = difflib.get_close_matches(str(value), options, n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
    raise ValueError(f"{what} {value!r} is not one of {', '.join(options)}{extra}")


def non_negative(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be an integer >= 0, got {value!r}")
    return value


def backends(backend_dict: Any) -> Iterator[Any]:
    """Every regional backend moto has created so far (all accounts, all regions)."""
    for account in list(backend_dict.values()):
        yield from list(account.values())


def arn_parts(arn: str, what: str) -> tuple[str, str, str, str]:
    """(partition, region, account, resource) of an ARN; ValueError naming `what` if it is not one."""
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"{what} {arn!r} is not an ARN")
    return parts[1], parts[3], parts[4], parts[5]
