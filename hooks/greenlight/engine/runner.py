"""Runs the checks of one hook side by side under a deadline and returns their results.

The runner owns everything a check author should not write: repetition, intervals, per-measurement
wall-clock bounds, turning exceptions and overruns into ERROR measurements, early stop, and
stopping the other checks once the run has failed.

The deadline it is given is hard: `run_checks` returns by it (give or take thread scheduling), whatever a
check does. Checks see a slightly earlier deadline, so a probe that times out at its end still reports its
own error (URL, kind, hint) before the runner's backstop gives up on it. Anything a check's thread raises
outside `measure()` (a progress callback, formatting a result) makes that check an ERROR, never
INCONCLUSIVE, so `on_inconclusive: pass` cannot let a crash through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from greenlight.engine.check import Check, CheckContext
from greenlight.engine.clock import Clock
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import CheckResult, CheckState, Measurement, Status, Tally
from greenlight.engine.policy import Decision, cut_short, decide
from greenlight.probe import redact

ProgressFn = Callable[[Check, int, Measurement], None]

# Time a measurement may overrun its own timeout before the runner stops waiting for it:
# checks bound their own I/O, this is the backstop.
GRACE = 1.0
# How long past the hard deadline the runner waits for a check's thread to hand back its result: every wait
# in a check's thread ends by the hard deadline, so this only covers scheduling.
JOIN_SLACK = 0.25
DEADLINE_REACHED = "deadline reached"


def overrun_allowance(deadline: Deadline) -> float:
    """How much earlier than `deadline` checks must stop: GRACE, or a quarter of a shorter budget."""
    return min(GRACE, deadline.remaining() / 4)


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
            m = Measurement(Status.ERROR, _said(exc))
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
            out.append(Measurement(Status.ERROR, f"could not prepare: {_said(exc)}"))
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
        dry_run: bool = False,
    ) -> None:
        # `hard` bounds every wait of the runner; checks (and their prepare) see `ctx.deadline`, earlier by the
        # overrun allowance, so their own timeouts fire before the runner's backstops.
        self.hard = ctx.deadline
        self.overrun = overrun_allowance(ctx.deadline)
        ctx = replace(ctx, deadline=Deadline(ctx.deadline.at - self.overrun, ctx.deadline.clock))
        self.ctx = ctx
        self.dry_run = dry_run
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
            dry_run = policy.dry_run or self.dry_run
            if status in (Status.FAIL, Status.ERROR):
                bad = [m.reason for m in measurements if m.status is status]
                last = bad[-1] if bad else last_bad
                if last and last not in reason:
                    reason = f"{reason}; last: {last}"
                if not dry_run:
                    self.stopped_by(check, status)
            return CheckResult(
                check.name,
                check.kind,
                status,
                reason,
                tuple(measurements),
                dry_run,
                tally=tally,
                paused=paused,
                next_at=next_at if paused else None,
            )

        def paused() -> CheckResult:
            return result(
                Decision(Status.INCONCLUSIVE, f"paused after {tally.taken} of {policy.count} measurements"),
                paused=True,
            )

        if tally.taken > policy.count:
            # Progress carried between invocations (ECS hookDetails, a durable checkpoint) that this spec could not
            # have written: never resumed into a verdict.
            return result(
                Decision(
                    Status.ERROR, f"resumed progress says {tally.taken} measurements, more than count {policy.count}"
                )
            )
        decision = decide(tally, policy)
        if decision.final:
            return result(decision)
        if deadline.expired():
            # No time at all (a resumed run past its end): decide from the tally alone, touching nothing.
            return result(cut_short(tally, policy, self.deadline_reason))
        # prepare() may call AWS (secrets, discovery): bounded by the deadline like a measurement, so a
        # hanging call cannot hold the run past it and eat the time kept for reporting.
        unprepared = _prepare_bounded(check, self.ctx, self.hard.remaining())
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
            # Never past the hard deadline, which is what keeps the reserve for reporting whole.
            limit = min(deadline.bound(policy.timeout) + self.overrun, self.hard.remaining())
            m = _measure_bounded(check, self.ctx, limit, clock)
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

    def stopped_by(self, check: Check, status: Status) -> None:
        """Stop the other checks: `check` has made the run fail (unless failures do not stop a run)."""
        if self.stop_on_failure:
            self.stop_reason = f"stopped early: check '{check.name}' {status.value}"
            self.stop.set()

    def crashed(self, check: Check, exc: BaseException) -> CheckResult:
        """The result of a check whose thread raised outside `measure()`: ERROR, whatever the policy says."""
        dry_run = check.policy.dry_run or self.dry_run
        if not dry_run:
            self.stopped_by(check, Status.ERROR)
        reason = f"the check's run crashed outside a measurement: {_said(exc)}"
        return CheckResult(check.name, check.kind, Status.ERROR, reason, (), dry_run)


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
    dry_run: bool = False,
) -> list[CheckResult]:
    """Run all checks concurrently; results come back in the order the checks were given, by `ctx.deadline`.

    `resume` continues checks from an earlier invocation; with `pause`, checks that are not decided
    when it comes stop with `paused=True` instead of being cut short, so a later invocation resumes them.
    `clock` defaults to the deadline's; `deadline_reason` starts the reason of a check the deadline cuts short.
    `dry_run` (the whole run) marks every result as dry run and lets no failure stop the other checks, so
    the report shows everything that would fail.
    """
    run = _Run(ctx, progress, stop_on_failure, pause, clock or ctx.deadline.clock, deadline_reason, dry_run)
    results: list[CheckResult | None] = [None] * len(checks)
    states = resume or {}

    def work(i: int, check: Check) -> None:
        try:
            results[i] = run.run_check(check, states.get(check.name))
        except Exception as exc:  # a crash in the check's thread fails closed, as a crash in measure() does
            results[i] = run.crashed(check, exc)

    threads = [threading.Thread(target=work, args=(i, c), daemon=True) for i, c in enumerate(checks)]
    for t in threads:
        t.start()
    for t in threads:
        # Every wait in a check's thread ends by the hard deadline (prepare, each measurement, each interval).
        t.join(ctx.deadline.remaining() + JOIN_SLACK)
    final: list[CheckResult] = []
    for check, res in zip(checks, results, strict=True):
        if res is None:
            # Stuck outside anything the runner bounds: nothing says it would have passed, so it is an ERROR.
            res = CheckResult(
                check.name,
                check.kind,
                Status.ERROR,
                "did not finish by the deadline (stuck outside its bounded measurements)",
                (),
                check.policy.dry_run or dry_run,
            )
        final.append(res)
    return final


def _said(exc: BaseException) -> str:
    """A crash as a check's reason: its type and text, masked like every other output (a check kind's
    exception may quote a URL's query string or a header it was given)."""
    return redact.text(f"{type(exc).__name__}: {exc}")
