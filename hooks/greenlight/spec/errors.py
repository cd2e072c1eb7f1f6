"""Errors raised while reading or validating a spec."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One mistake in a spec: where it is and what was expected."""

    path: str
    message: str

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
