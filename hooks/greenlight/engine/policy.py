"""The verdict rules: pure functions from measurements to a check outcome and from outcomes to a run verdict.

Nothing here does I/O or reads a clock, so every rule is unit tested exhaustively.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from greenlight.engine.model import CheckResult, Status, Tally, Verdict


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


def decide(measured: Sequence[Status] | Tally, policy: Policy) -> Decision:
    """Decide a check from its measurements so far, as early as the outcome is certain."""
    t = measured if isinstance(measured, Tally) else Tally.of(measured)
    remaining = max(policy.count - t.taken, 0)

    if t.fails > policy.failure_limit:
        return Decision(Status.FAIL, f"{t.fails} failed measurement(s), more than failure_limit {policy.failure_limit}")
    if t.error_run > policy.consecutive_error_limit:
        return Decision(
            Status.ERROR,
            f"{t.error_run} consecutive errors, more than consecutive_error_limit {policy.consecutive_error_limit}",
        )
    if policy.consecutive_successes:
        needed = policy.consecutive_successes
        if t.pass_run >= needed:
            return Decision(Status.PASS, f"{t.pass_run} consecutive successes (needed {needed})")
        if t.pass_run + remaining < needed:
            status = Status.FAIL if t.fails else Status.ERROR
            return Decision(
                status,
                f"cannot reach {needed} consecutive successes with {remaining} of {policy.count} measurements left",
            )
        return KEEP_GOING
    if remaining:
        return KEEP_GOING
    if t.passes == 0:
        # A check whose measurements hold no PASS never passes, whatever the limits tolerate.
        if t.fails:
            return Decision(Status.FAIL, f"no measurement passed ({t.fails} failed, {t.errors} errors)")
        return Decision(Status.ERROR, f"no measurement succeeded ({t.errors} errors)")
    return Decision(Status.PASS, f"{t.passes} of {t.taken} passed ({t.fails} failed, {t.errors} errors)")


def cut_short(measured: Sequence[Status] | Tally, policy: Policy, why: str, *, by_deadline: bool = True) -> Decision:
    """The outcome of a check that was stopped before it was certain: by the deadline, or (by_deadline False)
    because another check already failed the run."""
    decided = decide(measured, policy)
    if decided.final:
        return decided
    t = measured if isinstance(measured, Tally) else Tally.of(measured)
    if by_deadline and not t.passes:
        # Nothing passed before the stop, or nothing was measured at all (no time was left): never INCONCLUSIVE,
        # which on_inconclusive: pass would let through.
        status = Status.FAIL if t.fails else Status.ERROR
        if not t.taken:
            return Decision(status, f"{why} before any of {policy.count} measurements: nothing was measured")
        return Decision(status, f"{why} after {t.taken} of {policy.count} measurements, none of which passed")
    return Decision(Status.INCONCLUSIVE, f"{why} after {t.taken} of {policy.count} measurements")


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
        if result.dry_run and not dry_run:  # a dry-run check in a real run: reported, never decisive
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
