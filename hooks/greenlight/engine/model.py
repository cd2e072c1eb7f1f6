"""The result vocabulary shared by checks, the engine, reporters and the command line."""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class Status(enum.Enum):
    """What one measurement or one check came to."""

    PASS = "PASS"  # nosec B105  # a measurement status, not a password
    FAIL = "FAIL"  # measured, and the answer was bad
    ERROR = "ERROR"  # could not measure
    INCONCLUSIVE = "INCONCLUSIVE"  # the deadline cut it short before the outcome was certain


class Verdict(enum.Enum):
    """What a whole run (all checks of one hook) came to; ordered from best to worst."""

    PASSED = "PASSED"
    INCONCLUSIVE = "INCONCLUSIVE"
    ERROR = "ERROR"
    FAILED = "FAILED"

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)


@dataclass(frozen=True)
class Measurement:
    """One observation made by a check."""

    status: Status
    reason: str
    duration_ms: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status.value,
            "reason": self.reason,
            "duration_ms": round(self.duration_ms, 1),
            "at": round(self.at, 3),  # when it was taken (epoch seconds): the report's timeline
        }
        if self.details:
            out["details"] = self.details
        return out


def passed(reason: str = "ok", **details: Any) -> Measurement:
    return Measurement(Status.PASS, reason, details=details)


def failed(reason: str, **details: Any) -> Measurement:
    return Measurement(Status.FAIL, reason, details=details)


def errored(reason: str, **details: Any) -> Measurement:
    return Measurement(Status.ERROR, reason, details=details)


@dataclass(frozen=True)
class Tally:
    """Everything the verdict rules need from a check's measurements, in a few numbers.

    Small enough to carry between invocations (ECS native hooks resume a validation from it).
    """

    taken: int = 0
    passes: int = 0
    fails: int = 0
    errors: int = 0
    pass_run: int = 0  # passes in a row at the end
    error_run: int = 0  # errors in a row at the end

    def add(self, status: Status) -> Tally:
        return Tally(
            taken=self.taken + 1,
            passes=self.passes + (status is Status.PASS),
            fails=self.fails + (status is Status.FAIL),
            errors=self.errors + (status is Status.ERROR),
            pass_run=self.pass_run + 1 if status is Status.PASS else 0,
            error_run=self.error_run + 1 if status is Status.ERROR else 0,
        )

    @classmethod
    def of(cls, statuses: Sequence[Status]) -> Tally:
        tally = cls()
        for status in statuses:
            tally = tally.add(status)
        return tally


@dataclass(frozen=True)
class CheckState:
    """Where a check stands between two rounds of a run: its tally, when to measure next, its last bad reason."""

    tally: Tally
    next_at: float = 0.0  # epoch seconds
    last_bad: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its measurements and what they add up to."""

    name: str
    kind: str
    status: Status
    reason: str
    measurements: tuple[Measurement, ...] = ()
    dry_run: bool = False
    tally: Tally | None = None  # all measurements, including those of earlier invocations
    paused: bool = False  # stopped at the invocation's budget, to be resumed (ECS native hooks)
    next_at: float | None = None  # epoch seconds of the next measurement, when paused

    @property
    def counts(self) -> dict[str, int]:
        if self.tally is not None:
            return {"PASS": self.tally.passes, "FAIL": self.tally.fails, "ERROR": self.tally.errors}
        out = {s.value: 0 for s in (Status.PASS, Status.FAIL, Status.ERROR)}
        for m in self.measurements:
            out[m.status.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status.value,
            "reason": self.reason,
            "dry_run": self.dry_run,
            "counts": self.counts,
            **({"paused": True} if self.paused else {}),
            "measurements": [m.to_dict() for m in self.measurements],
        }


@dataclass(frozen=True)
class RunResult:
    """All checks of one hook, the verdict, and whether the controller should be told success."""

    hook: str
    verdict: Verdict
    succeeded: bool
    reason: str
    checks: tuple[CheckResult, ...]
    duration_ms: float
    dry_run: bool = False
    context: dict[str, Any] = field(default_factory=dict)
    load: dict[str, Any] | None = None  # what the hook's load section sent and got (greenlight.load)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "verdict": self.verdict.value,
            "succeeded": self.succeeded,
            "reason": self.reason,
            "dry_run": self.dry_run,
            "duration_ms": round(self.duration_ms, 1),
            "context": self.context,
            "checks": [c.to_dict() for c in self.checks],
            **({"load": self.load} if self.load is not None else {}),
        }
