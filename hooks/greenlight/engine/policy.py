"""The verdict rules: pure functions from measurements to a check outcome and from outcomes to a run verdict.

Nothing here does I/O or reads a clock, so every rule is unit tested exhaustively.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from greenlight.engine.model import CheckResult, Status, Verdict


@dataclass(frozen=True)
class Policy:
    """How often a check measures and how many bad measurements it tolerates."""

    count: int = 1
    interval: float = 1.0
    timeout: float = 5.0
    failure_limit: int = 0
    consecutive_error_limit: int = 4
    consecutive_successes: int | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class Decision:
    """The outcome of a check once it is certain (status None: keep measuring)."""

    status: Status | None
    reason: str = ""

    @property
    def final(self) -> bool:
        return self.status is not None


KEEP_GOING = Decision(None)


def _tail(statuses: Sequence[Status], status: Status) -> int:
    n = 0
    for s in reversed(statuses):
        if s is not status:
            break
        n += 1
    return n


def decide(statuses: Sequence[Status], policy: Policy) -> Decision:
    """Decide a check from its measurements so far, as early as the outcome is certain."""
    taken = len(statuses)
    remaining = max(policy.count - taken, 0)
    fails = statuses.count(Status.FAIL)
    errors = statuses.count(Status.ERROR)
    passes = statuses.count(Status.PASS)

    if fails > policy.failure_limit:
        return Decision(Status.FAIL, f"{fails} failed measurement(s), more than failure_limit {policy.failure_limit}")
    error_run = _tail(statuses, Status.ERROR)
    if error_run > policy.consecutive_error_limit:
        return Decision(
            Status.ERROR,
            f"{error_run} consecutive errors, more than consecutive_error_limit {policy.consecutive_error_limit}",
        )
    if policy.consecutive_successes:
        needed = policy.consecutive_successes
        pass_run = _tail(statuses, Status.PASS)
        if pass_run >= needed:
            return Decision(Status.PASS, f"{pass_run} consecutive successes (needed {needed})")
        if pass_run + remaining < needed:
            status = Status.FAIL if fails else Status.ERROR
            return Decision(
                status,
                f"cannot reach {needed} consecutive successes with {remaining} of {policy.count} measurements left",
            )
        return KEEP_GOING
    if remaining:
        return KEEP_GOING
    if passes == 0:
        # A check whose measurements hold no PASS never passes, whatever the limits tolerate.
        if fails:
            return Decision(Status.FAIL, f"no measurement passed ({fails} failed, {errors} errors)")
        return Decision(Status.ERROR, f"no measurement succeeded ({errors} errors)")
    return Decision(Status.PASS, f"{passes} of {taken} passed ({fails} failed, {errors} errors)")


def cut_short(statuses: Sequence[Status], policy: Policy, why: str) -> Decision:
    """The outcome of a check that was stopped (deadline, or the run already failed) before it was certain."""
    decided = decide(statuses, policy)
    if decided.final:
        return decided
    return Decision(Status.INCONCLUSIVE, f"{why} after {len(statuses)} of {policy.count} measurements")


_VERDICT_OF = {
    Status.PASS: Verdict.PASSED,
    Status.INCONCLUSIVE: Verdict.INCONCLUSIVE,
    Status.ERROR: Verdict.ERROR,
    Status.FAIL: Verdict.FAILED,
}


@dataclass(frozen=True)
class RunDecision:
    verdict: Verdict
    succeeded: bool
    reason: str


def combine(results: Sequence[CheckResult], *, dry_run: bool = False, inconclusive_passes: bool = False) -> RunDecision:
    """Fold check outcomes into the run verdict, and say whether to report success (fail closed)."""
    verdict = Verdict.PASSED
    worst: list[str] = []
    would_fail: list[str] = []
    for result in results:
        if result.status is Status.PASS:
            continue
        if result.dry_run:
            would_fail.append(f"{result.name} ({result.status.value}: {result.reason})")
            continue
        this = _VERDICT_OF[result.status]
        if this.rank > verdict.rank:
            verdict, worst = this, []
        if this is verdict:
            worst.append(f"{result.name}: {result.reason}")

    if verdict is Verdict.PASSED:
        reason = f"all {len(results)} check(s) passed" if results else "no checks configured for this hook"
        if would_fail:
            reason += "; dry run, would have failed: " + "; ".join(would_fail)
        return RunDecision(verdict, True, reason)

    reason = f"{verdict.value}: " + "; ".join(worst)
    succeeded = verdict is Verdict.INCONCLUSIVE and inconclusive_passes
    if succeeded:
        reason += " (on_inconclusive: pass)"
    if dry_run:
        return RunDecision(verdict, True, f"dry run, would have reported Failed: {reason}")
    return RunDecision(verdict, succeeded, reason)
