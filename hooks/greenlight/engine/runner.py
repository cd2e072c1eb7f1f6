"""Runs the checks of one hook side by side under a deadline and returns their results.

The runner owns everything a check author should not write: repetition, intervals, per-measurement
wall-clock bounds, turning exceptions and overruns into ERROR measurements, early stop, and
stopping the other checks once the run has failed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from greenlight.engine.check import Check, CheckContext
from greenlight.engine.clock import Clock
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import CheckResult, CheckState, Measurement, Status, Tally
from greenlight.engine.policy import Decision, cut_short, decide

ProgressFn = Callable[[Check, int, Measurement], None]

# Time a measurement may overrun its own timeout before the runner stops waiting for it:
# checks bound their own I/O, this is the backstop.
GRACE = 1.0
DEADLINE_REACHED = "deadline reached"


@dataclass
class _Outcome:
    measurement: Measurement | None = None


def _measure_bounded(check: Check, ctx: CheckContext, limit: float, clock: Clock) -> Measurement:
    """Run `check.measure` in its own daemon thread and wait at most `limit` seconds for it."""
    out = _Outcome()
    started = clock.monotonic()

    def work() -> None:
        try:
            m = check.measure(ctx)
        except Exception as exc:  # the engine, not the check, turns a crash into an ERROR
            m = Measurement(Status.ERROR, f"{type(exc).__name__}: {exc}")
        out.measurement = m

    worker = threading.Thread(target=work, name=f"greenlight-{check.name}", daemon=True)
    worker.start()
    worker.join(limit)
    elapsed = (clock.monotonic() - started) * 1000
    if out.measurement is None:
        return Measurement(Status.ERROR, f"measurement timed out after {limit:.1f}s", duration_ms=elapsed)
    m = out.measurement
    if m.status not in (Status.PASS, Status.FAIL, Status.ERROR):
        return Measurement(Status.ERROR, f"check returned invalid status {m.status}", duration_ms=elapsed)
    return Measurement(m.status, m.reason, duration_ms=m.duration_ms or elapsed, details=m.details, at=m.at)


def _prepare_bounded(check: Check, ctx: CheckContext, limit: float) -> Measurement | None:
    """Run `check.prepare` in a daemon thread for at most `limit` seconds; an ERROR measurement if it failed."""
    out: list[Measurement | None] = []

    def work() -> None:
        try:
            check.prepare(ctx)
        except Exception as exc:  # the engine, not the check, turns a crash into an ERROR
            out.append(Measurement(Status.ERROR, f"could not prepare: {type(exc).__name__}: {exc}"))
        else:
            out.append(None)

    worker = threading.Thread(target=work, name=f"greenlight-prepare-{check.name}", daemon=True)
    worker.start()
    worker.join(limit)
    if not out:
        return Measurement(Status.ERROR, f"could not prepare within the {limit:.1f}s left before the deadline")
    return out[0]


class _Run:
    def __init__(
        self,
        ctx: CheckContext,
        progress: ProgressFn | None,
        stop_on_failure: bool,
        pause: Deadline | None,
        clock: Clock,
        deadline_reason: str,
    ) -> None:
        self.ctx = ctx
        self.progress = progress
        self.stop_on_failure = stop_on_failure
        self.pause = pause
        self.clock = clock
        self.deadline_reason = deadline_reason
        self.stop = threading.Event()
        self.stop_reason = deadline_reason

    def run_check(self, check: Check, state: CheckState | None) -> CheckResult:
        policy = check.policy
        deadline = self.ctx.deadline
        measurements: list[Measurement] = []
        tally = state.tally if state else Tally()
        last_bad = state.last_bad if state else None
        next_at = state.next_at if state else 0.0

        def result(decision: Decision, *, paused: bool = False) -> CheckResult:
            assert decision.status is not None
            status, reason = decision.status, decision.reason
            if status in (Status.FAIL, Status.ERROR):
                bad = [m.reason for m in measurements if m.status is status]
                last = bad[-1] if bad else last_bad
                if last and last not in reason:
                    reason = f"{reason}; last: {last}"
                if self.stop_on_failure and not policy.dry_run:
                    self.stop_reason = f"stopped early: check '{check.name}' {status.value}"
                    self.stop.set()
            return CheckResult(
                check.name,
                check.kind,
                status,
                reason,
                tuple(measurements),
                policy.dry_run,
                tally=tally,
                paused=paused,
                next_at=next_at if paused else None,
            )

        def paused() -> CheckResult:
            return result(
                Decision(Status.INCONCLUSIVE, f"paused after {tally.taken} of {policy.count} measurements"),
                paused=True,
            )

        decision = decide(tally, policy)
        if decision.final:
            return result(decision)
        if deadline.expired():
            # No time at all (a resumed run past its end): decide from the tally alone, touching nothing.
            return result(cut_short(tally, policy, self.deadline_reason))
        # prepare() may call AWS (secrets, discovery): bounded by the deadline like a measurement, so a
        # hanging call cannot hold the run past it and eat the time kept for reporting.
        unprepared = _prepare_bounded(check, self.ctx, deadline.remaining())
        if unprepared is not None:
            measurements.append(unprepared)
            tally = tally.add(Status.ERROR)
            return result(Decision(Status.ERROR, unprepared.reason))

        clock = self.clock
        while tally.taken < policy.count:
            wait = next_at - clock.time()
            if wait > 0:
                if self.pause is not None and self.pause.remaining() < wait:
                    return paused()
                clock.wait(self.stop, deadline.bound(wait))
            if self.stop.is_set() or deadline.expired():
                stopped = self.stop.is_set()
                why = self.stop_reason if stopped else self.deadline_reason
                return result(cut_short(tally, policy, why, by_deadline=not stopped))
            if self.pause is not None and self.pause.remaining() < policy.timeout + GRACE:
                next_at = max(next_at, clock.time())
                return paused()
            started = clock.time()
            # The backstop waits a little past the measurement's own bound, so a probe that times out
            # at the deadline reports its own error (URL, kind, hint) rather than a bare overrun.
            m = _measure_bounded(check, self.ctx, deadline.bound(policy.timeout) + GRACE, clock)
            measurements.append(m)
            tally = tally.add(m.status)
            if m.status is not Status.PASS:
                last_bad = m.reason
            if self.progress:
                self.progress(check, tally.taken - 1, m)
            decision = decide(tally, policy)
            if decision.final:
                return result(decision)
            next_at = started + policy.interval
        return result(decide(tally, policy))


def run_checks(
    checks: Sequence[Check],
    ctx: CheckContext,
    *,
    progress: ProgressFn | None = None,
    stop_on_failure: bool = True,
    resume: Mapping[str, CheckState] | None = None,
    pause: Deadline | None = None,
    clock: Clock | None = None,
    deadline_reason: str = DEADLINE_REACHED,
) -> list[CheckResult]:
    """Run all checks concurrently; results come back in the order the checks were given.

    `resume` continues checks from an earlier invocation; with `pause`, checks that are not decided
    when it comes stop with `paused=True` instead of being cut short, so a later invocation resumes them.
    `clock` defaults to the deadline's; `deadline_reason` starts the reason of a check the deadline cuts short.
    """
    run = _Run(ctx, progress, stop_on_failure, pause, clock or ctx.deadline.clock, deadline_reason)
    results: list[CheckResult | None] = [None] * len(checks)
    states = resume or {}

    def work(i: int, check: Check) -> None:
        results[i] = run.run_check(check, states.get(check.name))

    threads = [threading.Thread(target=work, args=(i, c), daemon=True) for i, c in enumerate(checks)]
    for t in threads:
        t.start()
    for t in threads:
        # Each check stops itself at the deadline (its prepare and every measurement are bounded by it), so
        # the margin covers bookkeeping only: a check's own timeout may be longer than the reporting reserve.
        t.join(ctx.deadline.remaining() + 2 * GRACE)
    final: list[CheckResult] = []
    for check, res in zip(checks, results, strict=True):
        if res is None:
            res = CheckResult(check.name, check.kind, Status.INCONCLUSIVE, "did not finish before the deadline")
        final.append(res)
    return final
