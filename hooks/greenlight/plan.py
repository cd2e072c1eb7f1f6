"""The plan of one validation: which checks, against what, with how much time; shared by the hooks and the CLI.

`prepare` turns a spec, a hook, the time left and (when the checks need it) discovery into a `Plan`: the
checks to run, the target (discovered listener URLs where the spec says `auto`, explicit URLs first), the
discovered deployment, and the engine's budget, for one round or for a round of a resumable run. It is also
the one place that asks whether there is time left beyond the reserve kept for answering the controller.
`execute` hands a plan to the engine.

Knows specs and hooks, not controllers: the handlers bring their own discovery and settings.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from greenlight.engine.check import Check, Needs, Target
from greenlight.engine.clock import SYSTEM, Clock
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import CheckState, RunResult
from greenlight.engine.run import Budget, RunOutcome, room_for_a_measurement, run
from greenlight.engine.runner import ProgressFn

if TYPE_CHECKING:
    from greenlight.spec.model import Spec

# The reserve kept for reporting before the spec (and its settings.report_reserve) has been read.
DEFAULT_RESERVE = 15.0

T = TypeVar("T")


class Discovery(Protocol):
    """Finds green for one deployment (greenlight.discovery.codedeploy or .ecs)."""

    def discover(self, *, require: Iterable[str] = ...) -> Any:
        """The deployment; DiscoveryError when a listener named in `require` ('test', 'prod') is missing."""
        ...


@dataclass(frozen=True)
class TimeLeft:
    """The time an invocation has (read live, e.g. from the Lambda context) and the reserve kept for its answer."""

    left: Callable[[], float]
    reserve: float = 0.0
    clock: Clock = SYSTEM
    remedy: str = "raise the function's timeout"  # what to do when the time is too short

    @classmethod
    def of(cls, seconds: float, *, clock: Clock = SYSTEM, remedy: str = "allow more time") -> TimeLeft:
        """`seconds` from now, without a reserve (a command line's --deadline)."""
        deadline = Deadline.after(seconds, clock)
        return cls(deadline.remaining, 0.0, clock, remedy)

    def with_reserve(self, reserve: float) -> TimeLeft:
        return replace(self, reserve=reserve)

    def beyond_reserve(self, when: str) -> float:
        """Seconds left beyond the reserve; TimeoutError naming `when` if there are none.

        ValueError when the time left or the reserve is not a finite number (NaN compares false with
        everything, so it would otherwise pass every check and leave no bound at all)."""
        left = self.left()
        if not (math.isfinite(left) and math.isfinite(self.reserve)):
            raise ValueError(
                f"the time left ({left!r}s) and the reserve for reporting ({self.reserve!r}s) must be finite "
                "numbers of seconds"
            )
        if left <= self.reserve:
            raise TimeoutError(
                f"only {left:.1f}s left {when}, within the {self.reserve:g}s reserve for reporting; {self.remedy}"
            )
        return left - self.reserve

    def bounded(self, what: str, call: Callable[[], T]) -> T:
        """`call()`, waited for only until the reserve; TimeoutError naming `what` when it has not answered.

        For the AWS calls made before the engine runs (a spec kept in SSM, discovery, a controller's own
        look-ups): botocore bounds each attempt, not their sum, so only a wall-clock bound keeps them out of
        the time kept for answering. The call runs in a daemon thread, which is left behind if it overruns.
        """
        limit = self.beyond_reserve(f"before {what}")
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["value"] = call()
            except BaseException as exc:  # handed to the caller's thread below
                box["error"] = exc

        worker = threading.Thread(target=work, name=f"greenlight-{what.replace(' ', '-')}", daemon=True)
        worker.start()
        worker.join(limit)
        if "error" in box:
            raise box["error"]
        if "value" not in box:
            raise TimeoutError(
                f"{what} did not answer within the {limit:.1f}s left before the {self.reserve:g}s reserve for "
                f"reporting; {self.remedy}, or check the network path to AWS"
            )
        value: T = box["value"]
        return value


def reserve_for(spec: Spec | None, override: float | None) -> float:
    """The reserve kept for reporting: the function's setting when it has one, else the spec's (before the
    spec is read: DEFAULT_RESERVE)."""
    if override is not None:
        return override
    return spec.report_reserve if spec is not None else DEFAULT_RESERVE


@dataclass(frozen=True)
class Rounds:
    """A validation that may take several invocations: when its first began (epoch seconds), what it resumes."""

    started_at: float
    resume: Mapping[str, CheckState] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """One round of a validation, ready for the engine."""

    hook: str
    checks: tuple[Check, ...]
    target: Target
    deployment: Any
    budget: Budget
    dry_run: bool = False
    inconclusive_passes: bool = False
    resume: Mapping[str, CheckState] = field(default_factory=dict)
    ends_at: float | None = None  # epoch seconds by which a resumable validation ends (max_duration)
    load: Any = None  # the hook's load section (greenlight.load.LoadSpec), sent while the checks run


def load_spec(location: str | None, env: Mapping[str, str] | None, aws: Any) -> Spec:
    """The spec at `location` (None: the bundled one). One kept in SSM is read with the invocation's bounded
    client (botocore's defaults wait 60 s per read)."""
    from greenlight.spec.loader import SSM_PREFIX, load

    from_ssm = (location or "").startswith(SSM_PREFIX)
    client = aws.client("ssm") if from_ssm and aws is not None else None
    return load(location, env=env, ssm_client=client)


def needs(spec: Spec, hook: str, *, test_url: str | None = None, prod_url: str | None = None) -> Needs:
    """What discovery must deliver for `hook`: the listeners its checks use whose URL is neither given here
    nor in the spec (`auto`), and whether they need the deployment itself."""
    from greenlight.checks import requirements

    wanted = requirements(spec.checks_for(hook))
    if spec.load_for(hook) is not None:  # load goes through the test listener
        wanted = wanted | Needs(frozenset({"test"}))
    auto = {"test": spec.test_url_auto and not test_url, "prod": spec.prod_url_auto and not prod_url}
    return Needs(frozenset(name for name in wanted.listeners if auto.get(name)), wanted.deployment)


def resolve_target(spec: Spec, test_url: str | None = None, prod_url: str | None = None) -> Target:
    """The spec's target with explicit overrides (command line, discovery) applied."""
    target = spec.target
    if test_url:
        target = replace(target, test_url=test_url.rstrip("/"))
    if prod_url:
        target = replace(target, prod_url=prod_url.rstrip("/"))
    return target


def discovered_target(spec: Spec, deployment: Any, test_url: str | None = None, prod_url: str | None = None) -> Target:
    """The spec's target with discovered listener URLs where the spec says `auto`.

    Explicit URLs win: `test_url`/`prod_url` given here (command line) over everything, then the spec's
    own URLs, then what discovery found.
    """
    if deployment is not None:
        test_url = test_url or (deployment.test_url if spec.test_url_auto else None)
        prod_url = prod_url or (deployment.prod_url if spec.prod_url_auto else None)
    return resolve_target(spec, test_url, prod_url)


def build_checks(spec: Spec, hook: str) -> tuple[Check, ...]:
    return tuple(c.build() for c in spec.checks_for(hook))


def prepare(
    spec: Spec,
    hook: str,
    *,
    time: TimeLeft,
    discovery: Discovery | None = None,
    discover_always: bool = False,
    test_url: str | None = None,
    prod_url: str | None = None,
    dry_run: bool = False,
    rounds: Rounds | None = None,
) -> Plan:
    """Plan one round of `hook`'s checks: discovery when they need it (or always, if asked), then the budget.

    Raises TimeoutError when no time is left beyond the reserve before discovery or before measuring, and,
    in a resumable validation, when the time left cannot fit one measurement (the next round would have no
    more). Whatever `discover` raises (DiscoveryError) is the caller's to report.
    """
    clock = time.clock
    checks = build_checks(spec, hook)
    ends_at = rounds.started_at + spec.max_duration if rounds is not None else None
    expired = ends_at is not None and ends_at <= clock.time()
    resume = dict(rounds.resume) if rounds is not None else {}

    deployment = None
    if discovery is not None:
        wanted = needs(spec, hook, test_url=test_url, prod_url=prod_url)
        if discover_always or wanted.listeners or wanted.deployment:
            require = sorted(wanted.listeners)
            if expired:  # nothing is measured any more; the round only decides
                deployment = discovery.discover(require=require)
            else:
                deployment = time.bounded("discovery", lambda: discovery.discover(require=require))
    target = discovered_target(spec, deployment, test_url, prod_url)

    if ends_at is None:
        budget = Budget.once(time.beyond_reserve("after loading the spec and discovery"), clock=clock)
    else:
        end = f"max_duration {spec.max_duration:g}s reached"
        run_left = ends_at - clock.time()
        if run_left <= 0:
            # Nothing is measured any more: the round only decides from the resumed states.
            budget = Budget(Deadline.after(0, clock), end=end)
        else:
            left = time.beyond_reserve("after loading the spec and discovery")
            room = room_for_a_measurement(checks, resume)
            if room and left < room:
                raise TimeoutError(
                    f"{left + time.reserve:.1f}s left minus the {time.reserve:g}s reserve cannot fit one {room:g}s "
                    f"measurement; {time.remedy} to at least {math.ceil(room + time.reserve + 5)}s"
                )
            budget = Budget.resumable(left, run_left=run_left, room=room, end=end, clock=clock)
    return Plan(
        hook=hook,
        checks=checks,
        target=target,
        deployment=deployment,
        budget=budget,
        dry_run=dry_run or spec.dry_run,
        inconclusive_passes=spec.on_inconclusive == "pass",
        resume=resume,
        ends_at=ends_at,
        load=spec.load_for(hook),
    )


def execute(
    plan: Plan,
    *,
    aws: Any = None,
    settings: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    context: Mapping[str, Any] | None = None,
) -> RunOutcome:
    """Run the plan's round in the engine."""
    return run(
        plan.checks,
        plan.budget,
        hook=plan.hook,
        target=plan.target,
        deployment=plan.deployment,
        aws=aws,
        settings=settings,
        resume=plan.resume,
        dry_run=plan.dry_run,
        inconclusive_passes=plan.inconclusive_passes,
        progress=progress,
        context=context,
        load=plan.load,
    )


def run_hook(
    spec: Spec,
    hook: str,
    *,
    deadline: Deadline,
    target: Target | None = None,
    deployment: Any = None,
    aws: Any = None,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    settings: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> RunResult:
    """One round of the spec's checks for `hook` against a target already known, until `deadline`.

    For callers that need no discovery and keep no reserve (tests, benchmarks, scripts).
    """
    plan = Plan(
        hook=hook,
        checks=build_checks(spec, hook),
        target=target or spec.target,
        deployment=deployment,
        budget=Budget(deadline),
        dry_run=dry_run or spec.dry_run,
        inconclusive_passes=spec.on_inconclusive == "pass",
        load=spec.load_for(hook),
    )
    return execute(plan, aws=aws, settings=settings, progress=progress, context=context).result
