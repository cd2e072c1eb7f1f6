"""One run of a hook's checks under a budget: the engine's entry point, for one round or for many.

A run may take one round (CodeDeploy: the whole validation in one invocation) or many (ECS native hooks:
each invocation is a round that pauses when its budget is spent, and the next one resumes from the paused
checks' states). Both are the same call: a round starts from `resume` (empty the first time), measures
until its budget says pause or stop, and returns the verdict with the states to resume from. Because the
verdict rules read only the tally, a run split over any number of rounds reaches the verdict one
uninterrupted run would.

Nothing here knows which controller asked, how a state travels between rounds, or what a spec is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from greenlight.engine.check import Check, CheckContext, Target
from greenlight.engine.clock import SYSTEM, Clock
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import CheckResult, CheckState, RunResult, Status
from greenlight.engine.policy import combine, decide
from greenlight.engine.runner import DEADLINE_REACHED, GRACE, ProgressFn, run_checks


@dataclass(frozen=True)
class Budget:
    """How long one round may measure: never past `deadline`; with `pause`, undecided checks pause there.

    `end` is set when `deadline` is the end of the whole run (not only of this round): the words a
    cut-short check's reason starts with, e.g. "max_duration 3600s reached".
    """

    deadline: Deadline
    pause: Deadline | None = None
    end: str | None = None

    @property
    def clock(self) -> Clock:
        return self.deadline.clock

    @classmethod
    def once(cls, seconds: float, *, clock: Clock = SYSTEM) -> Budget:
        """A run in one round: measure for `seconds`, then cut short whatever is undecided."""
        return cls(Deadline.after(seconds, clock))

    @classmethod
    def resumable(cls, seconds: float, *, run_left: float, room: float, end: str, clock: Clock = SYSTEM) -> Budget:
        """One round of a resumable run that has `run_left` seconds to go: pause after `seconds`.

        No measurement starts with less than its timeout left before the pause. The hard deadline is the
        run's end, but never later than `room` (see room_for_a_measurement) past the pause, so that nothing
        else (a check's prepare) can run into the time kept for answering either.
        """
        hard = min(run_left, seconds + max(room, GRACE))
        return cls(Deadline.after(hard, clock), Deadline.after(seconds, clock), end if hard >= run_left else None)


def room_for_a_measurement(checks: Sequence[Check], resume: Mapping[str, CheckState] | None = None) -> float:
    """Seconds a round needs to take one more measurement of every undecided check; 0 when all are decided."""
    states = resume or {}
    undecided = [c for c in checks if not _decided(c, states.get(c.name))]
    if not undecided:
        return 0.0
    return max(c.policy.timeout for c in undecided) + GRACE


def _decided(check: Check, state: CheckState | None) -> bool:
    return state is not None and decide(state.tally, check.policy).final


@dataclass(frozen=True)
class RunOutcome:
    """What a round came to: the verdict so far, and what the next round resumes from."""

    result: RunResult
    states: Mapping[str, CheckState] = field(default_factory=dict)  # every check that has measured
    in_progress: bool = False  # paused checks remain and nothing has decided the run yet
    next_due: float | None = None  # epoch seconds of the earliest paused check's next measurement


def run(
    checks: Sequence[Check],
    budget: Budget,
    *,
    hook: str,
    target: Target | None = None,
    deployment: Any = None,
    aws: Any = None,
    settings: Mapping[str, Any] | None = None,
    resume: Mapping[str, CheckState] | None = None,
    dry_run: bool = False,
    inconclusive_passes: bool = False,
    progress: ProgressFn | None = None,
    context: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
    load: Any = None,
) -> RunOutcome:
    """Run one round of `checks` under `budget`, from `resume`, and fold the results into the verdict."""
    clock = clock or budget.clock
    started = clock.monotonic()
    before = dict(resume or {})
    ctx = CheckContext(
        target=target or Target(),
        deadline=budget.deadline,
        deployment=deployment,
        aws=aws,
        settings=settings or {},
    )
    # The hook's load (greenlight.load.LoadSpec) is sent while the checks run and stopped at their verdict:
    # run_checks returns when they are decided, paused or cut short by the deadline, whichever comes first.
    sending = None
    if load is not None:
        from greenlight.load import LoadRun

        sending = LoadRun(load)
        ctx.load = sending
        sending.start(ctx)
    try:
        results = run_checks(
            checks,
            ctx,
            progress=progress,
            resume=before,
            pause=budget.pause,
            clock=clock,
            deadline_reason=budget.end or DEADLINE_REACHED,
            dry_run=dry_run,
        )
    finally:
        if sending is not None:
            sending.stop()
    decision = combine(results, dry_run=dry_run, inconclusive_passes=inconclusive_passes)
    result = RunResult(
        hook=hook,
        verdict=decision.verdict,
        succeeded=decision.succeeded,
        reason=decision.reason,
        checks=tuple(results),
        duration_ms=(clock.monotonic() - started) * 1000,
        dry_run=dry_run,
        context=dict(context or {}),
        load=sending.snapshot() if sending is not None else None,
    )
    paused = [c.next_at for c in results if c.paused and c.next_at is not None]
    return RunOutcome(
        result=result,
        states=_states(results, before),
        in_progress=_in_progress(results),
        next_due=min(paused) if paused else None,
    )


def _states(results: Sequence[CheckResult], before: Mapping[str, CheckState]) -> dict[str, CheckState]:
    out: dict[str, CheckState] = {}
    for check in results:
        if check.tally is None:
            continue
        prior = before.get(check.name)
        next_at = check.next_at if check.next_at is not None else (prior.next_at if prior else 0.0)
        out[check.name] = CheckState(check.tally, next_at, _last_bad(check, prior))
    return out


def _last_bad(check: CheckResult, before: CheckState | None) -> str | None:
    # The runner remembers the reason of the last measurement that was not a PASS; so does the state.
    bad = [m.reason for m in check.measurements if m.status is not Status.PASS]
    return bad[-1] if bad else (before.last_bad if before else None)


def _in_progress(results: Sequence[CheckResult]) -> bool:
    """Paused checks remain and nothing has decided the run yet (a failure ends it at once)."""
    if not any(c.paused for c in results):
        return False
    for c in results:
        if c.dry_run or c.paused:
            continue
        if c.status in (Status.FAIL, Status.ERROR, Status.INCONCLUSIVE):
            return False
    return True
