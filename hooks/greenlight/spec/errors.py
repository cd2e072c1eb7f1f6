"""Errors raised while reading or validating a spec."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# `headers.NAME`, `headers.NAME[0]`, `headers.NAME.secret`: a path at or below one header's value.
_HEADER = re.compile(r"(?:^|\.)headers\.([^.\[]+)")
_GOT = re.compile(r"\bgot .*$", re.DOTALL)


def under_secret_header(path: str) -> bool:
    """True for a path at or below the value of a header whose value is a credential (Authorization, X-Api-Key)."""
    from greenlight.probe.redact import is_secret_header

    return any(is_secret_header(name) for name in _HEADER.findall(path))


@dataclass(frozen=True)
class Problem:
    """One mistake in a spec: where it is and what was expected.

    Under a credential header the offending value is never quoted: it may be a token pasted in the wrong form
    (a list, or under `secret:` instead of a reference), and spec errors reach logs and the hook's answer.
    """

    path: str
    message: str

    def __post_init__(self) -> None:
        if under_secret_header(self.path) and _GOT.search(self.message):
            object.__setattr__(
                self, "message", _GOT.sub("got a value not shown here (a credential header)", self.message)
            )

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(Exception):
    """The spec is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"invalid spec{f' {source}' if source else ''}: {len(self.problems)} problem(s)"
        super().__init__("\n  ".join([head, *map(str, self.problems)]))


class SpecSourceError(Exception):
    """The spec could not be read from where it was said to be."""
