"""Runs the checks of one hook side by side under a deadline and returns their results.

The runner owns everything a check author should not write: repetition, intervals, per-measurement
wall-clock bounds, turning exceptions and overruns into ERROR measurements, early stop, and
stopping the other checks once the run has failed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from greenlight.checks.base import Check, CheckContext
from greenlight.engine.model import CheckResult, Measurement, Status
from greenlight.engine.policy import Decision, cut_short, decide

ProgressFn = Callable[[Check, int, Measurement], None]

# Time a measurement may overrun its own timeout before the runner stops waiting for it:
# checks bound their own I/O, this is the backstop.
_GRACE = 1.0


@dataclass
class _Outcome:
    measurement: Measurement | None = None


def _measure_bounded(check: Check, ctx: CheckContext, limit: float) -> Measurement:
    """Run `check.measure` in its own daemon thread and wait at most `limit` seconds for it."""
    out = _Outcome()
    started = time.monotonic()

    def work() -> None:
        try:
            m = check.measure(ctx)
        except Exception as exc:  # the engine, not the check, turns a crash into an ERROR
            m = Measurement(Status.ERROR, f"{type(exc).__name__}: {exc}")
        out.measurement = m

    worker = threading.Thread(target=work, name=f"greenlight-{check.name}", daemon=True)
    worker.start()
    worker.join(limit)
    elapsed = (time.monotonic() - started) * 1000
    if out.measurement is None:
        return Measurement(Status.ERROR, f"measurement timed out after {limit:.1f}s", duration_ms=elapsed)
    m = out.measurement
    if m.status not in (Status.PASS, Status.FAIL, Status.ERROR):
        return Measurement(Status.ERROR, f"check returned invalid status {m.status}", duration_ms=elapsed)
    return Measurement(m.status, m.reason, duration_ms=m.duration_ms or elapsed, details=m.details, at=m.at)


class _Run:
    def __init__(self, ctx: CheckContext, progress: ProgressFn | None, stop_on_failure: bool) -> None:
        self.ctx = ctx
        self.progress = progress
        self.stop_on_failure = stop_on_failure
        self.stop = threading.Event()
        self.stop_reason = "deadline reached"

    def run_check(self, check: Check) -> CheckResult:
        policy = check.policy
        measurements: list[Measurement] = []
        deadline = self.ctx.deadline

        def result(decision: Decision) -> CheckResult:
            assert decision.status is not None
            status = decision.status
            reason = decision.reason
            bad = [m for m in measurements if m.status is status]
            if status in (Status.FAIL, Status.ERROR) and bad:
                reason = f"{reason}; last: {bad[-1].reason}"
            if status in (Status.FAIL, Status.ERROR) and self.stop_on_failure and not policy.dry_run:
                self.stop_reason = f"stopped early: check '{check.name}' {status.value}"
                self.stop.set()
            return CheckResult(check.name, check.kind, status, reason, tuple(measurements), policy.dry_run)

        try:
            check.prepare(self.ctx)
        except Exception as exc:
            measurements.append(Measurement(Status.ERROR, f"could not prepare: {type(exc).__name__}: {exc}"))
            return result(Decision(Status.ERROR, measurements[0].reason))

        for index in range(policy.count):
            if self.stop.is_set() or deadline.expired():
                why = self.stop_reason if self.stop.is_set() else "deadline reached"
                return result(cut_short([m.status for m in measurements], policy, why))
            started = time.monotonic()
            limit = deadline.bound(policy.timeout + _GRACE)
            m = _measure_bounded(check, self.ctx, limit)
            measurements.append(m)
            if self.progress:
                self.progress(check, index, m)
            decision = decide([x.status for x in measurements], policy)
            if decision.final:
                return result(decision)
            wait = started + policy.interval - time.monotonic()
            if wait > 0 and self.stop.wait(deadline.bound(wait)):
                continue  # woken by stop: the loop head concludes
        return result(decide([m.status for m in measurements], policy))


def run_checks(
    checks: Sequence[Check],
    ctx: CheckContext,
    *,
    progress: ProgressFn | None = None,
    stop_on_failure: bool = True,
) -> list[CheckResult]:
    """Run all checks concurrently; results come back in the order the checks were given."""
    run = _Run(ctx, progress, stop_on_failure)
    results: list[CheckResult | None] = [None] * len(checks)

    def work(i: int, check: Check) -> None:
        results[i] = run.run_check(check)

    threads = [threading.Thread(target=work, args=(i, c), daemon=True) for i, c in enumerate(checks)]
    for t in threads:
        t.start()
    for t in threads:
        # Each check stops itself at the deadline; the extra margin only covers its last measurement.
        t.join(ctx.deadline.remaining() + max((c.policy.timeout for c in checks), default=0) + 2 * _GRACE)
    final: list[CheckResult] = []
    for check, res in zip(checks, results, strict=True):
        if res is None:
            res = CheckResult(check.name, check.kind, Status.INCONCLUSIVE, "did not finish before the deadline")
        final.append(res)
    return final
