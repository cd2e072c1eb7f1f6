"""Lambda handler for ECS native blue/green lifecycle hooks (deployment controller ECS: BLUE_GREEN, LINEAR, CANARY).

ECS invokes the function with `{"executionId", "lifecycleStage", "resourceArn", "executionDetails",
"hookDetails"}` and reads the verdict from its return value: SUCCEEDED, FAILED, or IN_PROGRESS with a
`callBackDelay`, after which ECS invokes it again with the returned `hookDetails` merged in.

Each invocation is one round of a resumable run (greenlight.engine.run): the stage's checks (those the
spec gives under the stage's name, or else under its CodeDeploy equivalent) run for as long as the
Lambda's remaining time minus the reserve allows (greenlight.plan). Checks not decided by then are
paused; their states go into hookDetails (greenlight.reporting.ecs_state) and the function answers
IN_PROGRESS, so a validation may last up to the spec's `max_duration`, and its verdict is the one a
single uninterrupted run would reach.

The function never raises: a malformed event, a corrupted hookDetails, a bad spec or an internal error
all return FAILED with the reason in the logs and in hookDetails (an exception would roll back too,
but nobody would learn why).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics

from greenlight import lifecycle, plan
from greenlight.engine.clock import SYSTEM, Clock
from greenlight.engine.model import CheckState, Verdict
from greenlight.handlers.inputs import InvalidEventError, Settings, SettingsError, remaining_seconds
from greenlight.reporting import ecs as reporting
from greenlight.reporting import metrics as run_metrics
from greenlight.reporting.ecs_state import (
    HookState,
    Identity,
    StateError,
    StateTooLargeError,
    decode,
    ensure_room,
)
from greenlight.reporting.log import log_progress, log_result

logger = Logger(service=os.getenv("POWERTOOLS_SERVICE_NAME", "greenlight"))
metrics = Metrics(namespace=os.getenv("POWERTOOLS_METRICS_NAMESPACE", "greenlight"))
log = logging.getLogger("greenlight.handler")

CONTROLLER = "ECS"
SKIPPED = "SKIPPED"

# Which weight map tells whether a traffic-shift stage runs for a rollback (ECS runs these two again while
# rolling back, with the target revision, still named targetServiceRevisionArn, back at weight 0).
_STAGE_WEIGHTS = {"TEST_TRAFFIC_SHIFT": "test", "PRODUCTION_TRAFFIC_SHIFT": "production"}

# The validation ends this long before the hook's own timeout (DescribeServiceDeployments ->
# lifecycleHookDetails[].expiresAt): one last callback, its answer and ECS's own delays fit in it. A hook
# with less than four times this left keeps a quarter of what is left instead.
HOOK_TIMEOUT_MARGIN = 120.0


# --- the event ----------------------------------------------------------------------------------------

_ABSENT: Any = object()


@dataclass(frozen=True)
class EcsHookEvent:
    """An ECS lifecycle hook invocation, validated.

    The weight maps are what ECS sends: filled only at the stages that shift traffic (ECS Developer Guide,
    "Lifecycle payloads"), `{}` everywhere else. `hook_details` is the event's hookDetails as sent: absent
    (`_ABSENT`) when the service configures none, and otherwise any JSON value.
    """

    execution_id: str
    stage: str
    resource_arn: str
    service_arn: str
    target_revision_arn: str
    test_weights: Mapping[str, float]
    production_weights: Mapping[str, float]
    hook_details: Any = _ABSENT

    @property
    def target_test_weight(self) -> float | None:
        return self.test_weights.get(self.target_revision_arn)

    @property
    def target_production_weight(self) -> float | None:
        return self.production_weights.get(self.target_revision_arn)

    @property
    def details_object(self) -> Mapping[str, Any] | None:
        """hookDetails when it is an object (the only kind with room for greenlight's key), else None."""
        return self.hook_details if isinstance(self.hook_details, Mapping) else None

    @property
    def resumable(self) -> bool:
        """Whether progress can ride in hookDetails between invocations.

        ECS merges the hookDetails an IN_PROGRESS answer returns into the next event's; it documents that
        merge for objects only. With a service hookDetails that is a string, list, number or null there is
        no documented way for greenlight's key to come back, and a validation that lost its progress at each
        callback would never reach max_duration: such a validation runs in one invocation instead.
        """
        return self.hook_details is _ABSENT or self.details_object is not None

    def identity(self) -> Identity:
        return Identity(
            self.stage,
            self.resource_arn,
            self.target_revision_arn,
            (self.target_test_weight, self.target_production_weight),
            self.execution_id,
        )

    def traffic_weights(self) -> dict[str, Any]:
        """What checks find in CheckContext.settings["traffic_weights"].

        `test` / `production`: the event's map (service revision ARN -> percentage) or None where ECS sends
        an empty one; `target_test_weight` / `target_weight`: the target revision's entry, or None. By stage:
        TEST_TRAFFIC_SHIFT has `test` (green 100); PRE_PRODUCTION_TRAFFIC_SHIFT has `production` with green 0;
        PRODUCTION_TRAFFIC_SHIFT has `production` with green 100, or the step's weight under LINEAR and
        CANARY, or 0 while rolling back; every other stage has neither.
        """
        return {
            "test": dict(self.test_weights) or None,
            "production": dict(self.production_weights) or None,
            "target_weight": self.target_production_weight,
            "target_test_weight": self.target_test_weight,
        }

    @property
    def rollback(self) -> bool:
        """A traffic-shift stage run again while rolling back: the target revision at weight 0 in its map."""
        which = _STAGE_WEIGHTS.get(self.stage)
        if which is None:
            return False
        weights = self.test_weights if which == "test" else self.production_weights
        target = weights.get(self.target_revision_arn)
        others = [w for arn, w in weights.items() if arn != self.target_revision_arn]
        return target is not None and target == 0 and any(w > 0 for w in others)


def _weights(value: Any, path: str, problems: list[str]) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{path} is not an object of service revision ARN -> percentage")
        return {}
    out: dict[str, float] = {}
    for arn, weight in value.items():
        ok = isinstance(weight, int | float) and not isinstance(weight, bool) and 0 <= weight <= 100
        if not isinstance(arn, str) or not ok:
            problems.append(f"{path}[{arn!r}] = {weight!r} is not a percentage between 0 and 100")
            continue
        out[arn] = float(weight)
    return out


def _arn_of(value: Any, resource: str, path: str, problems: list[str]) -> str:
    if not value:
        problems.append(f"{path} is missing")
        return ""
    if not isinstance(value, str) or not value.startswith("arn:") or f":{resource}/" not in value:
        problems.append(f"{path} {value!r} is not an ECS {resource} ARN")
        return ""
    return value


def parse_event(event: Any) -> EcsHookEvent:
    """The validated event, or InvalidEventError naming every missing or malformed field."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"expected an ECS lifecycle hook event (a JSON object), got {type(event).__name__}")
    if "DeploymentId" in event and "lifecycleStage" not in event:
        raise InvalidEventError(
            "this is a CodeDeploy lifecycle hook event; CodeDeploy hooks use the handler "
            "greenlight.handlers.codedeploy.handler, this one serves ECS native blue/green deployments"
        )
    problems: list[str] = []
    execution_id = event.get("executionId")
    if not execution_id:
        problems.append("executionId is missing")
    elif not isinstance(execution_id, str) or len(execution_id) > 1024:
        problems.append("executionId is not a string id")
    stage = event.get("lifecycleStage")
    if not stage:
        problems.append("lifecycleStage is missing")
    elif stage not in lifecycle.ECS_STAGES:
        import difflib

        hint = difflib.get_close_matches(str(stage), lifecycle.ECS_STAGES, n=1)
        problems.append(
            f"lifecycleStage {stage!r} is not one of {', '.join(lifecycle.ECS_STAGES)}"
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
        )
    resource_arn = _arn_of(event.get("resourceArn"), "service-deployment", "resourceArn", problems)
    details = event.get("executionDetails")
    service_arn = target = ""
    test: dict[str, float] = {}
    production: dict[str, float] = {}
    if not isinstance(details, Mapping):
        problems.append("executionDetails is missing" if details is None else "executionDetails is not an object")
    else:
        service_arn = _arn_of(details.get("serviceArn"), "service", "executionDetails.serviceArn", problems)
        target = _arn_of(
            details.get("targetServiceRevisionArn"),
            "service-revision",
            "executionDetails.targetServiceRevisionArn",
            problems,
        )
        test = _weights(details.get("testTrafficWeights"), "executionDetails.testTrafficWeights", problems)
        production = _weights(
            details.get("productionTrafficWeights"), "executionDetails.productionTrafficWeights", problems
        )
    # Any JSON value is a legal hookDetails (the API types it as a document): nothing to check here.
    hook_details = event.get("hookDetails", _ABSENT)
    if problems:
        keys = ", ".join(sorted(map(str, event))) or "none"
        raise InvalidEventError(
            "not an ECS lifecycle hook event: " + "; ".join(problems) + f" (event keys: {keys}). "
            "Nothing was probed; to try a stage by hand, use events/ecs-*.json."
        )
    return EcsHookEvent(
        execution_id=str(execution_id),
        stage=str(stage),
        resource_arn=resource_arn,
        service_arn=service_arn,
        target_revision_arn=target,
        test_weights=test,
        production_weights=production,
        hook_details=hook_details,
    )


# --- one invocation ----------------------------------------------------------------------------------


class _Invocation:
    """One invocation's work, from the parsed event to the answer."""

    def __init__(
        self,
        ev: EcsHookEvent,
        context: Any,
        *,
        aws: Any,
        env: Mapping[str, str] | None,
        metrics_sink: Any,
        clock: Clock,
    ) -> None:
        self.ev = ev
        self.lambda_context = context
        self.aws = aws
        self.env = env
        self.metrics_sink = metrics_sink
        self.clock = clock
        self.now = clock.time()
        self.identity = ev.identity()
        self.round = 1
        self.started_at = self.now

    # answers

    def final(
        self, succeeded: bool, verdict: str, reason: str, results: Mapping[str, Mapping[str, Any]] | None = None
    ) -> dict[str, Any]:
        status = reporting.SUCCEEDED if succeeded else reporting.FAILED
        state = HookState(
            self.identity,
            self.round,
            self.started_at,
            verdict=verdict,
            status=status,
            reason=reason,
            results=results or {},
        )
        return reporting.final(state)

    def skipped(self, why: str) -> dict[str, Any]:
        run_metrics.record(self.metrics_sink, run_metrics.HOOK_SKIPPED, hook=self.ev.stage)
        return self.final(True, SKIPPED, why)

    # the work

    def run(self) -> dict[str, Any]:
        ev = self.ev
        try:
            settings = Settings.from_env(self.env, allowed_hooks=lifecycle.ALL_HOOK_NAMES)
            # Before the spec is read, its report_reserve is unknown: the function's own setting, else the default.
            before_spec = plan.TimeLeft(
                lambda: remaining_seconds(self.lambda_context), plan.reserve_for(None, settings.reserve), self.clock
            )
            before_spec.beyond_reserve("at start")
            spec = before_spec.bounded(
                "loading the spec", lambda: plan.load_spec(settings.spec_location, self.env, self.aws)
            )
        except Exception as exc:
            if not ev.rollback:
                raise
            # on_rollback is in the spec, and it defaults to pass: a configuration that cannot be read blocks nothing.
            log.error(
                "cannot read the configuration during a rollback, not blocking it: %s: %s", type(exc).__name__, exc
            )
            return self.skipped(f"{ev.stage} runs again for a rollback and the configuration cannot be read ({exc})")
        if settings.hook and settings.hook not in (ev.stage, lifecycle.equivalent(ev.stage)):
            log.warning(
                "GREENLIGHT_HOOK=%s is ignored: an ECS hook runs the checks of the event's lifecycleStage %s",
                settings.hook,
                ev.stage,
            )
        if ev.rollback and spec.on_rollback == "pass":
            return self.skipped(
                f"{ev.stage} runs again for a rollback (the target revision has weight 0): on_rollback is pass, "
                "a rollback is never blocked"
            )
        time_left = plan.TimeLeft(
            lambda: remaining_seconds(self.lambda_context), plan.reserve_for(spec, settings.reserve), self.clock
        )

        # Progress of an earlier invocation: resumed only if it is this validation's (deployment, stage, ...).
        state = decode(ev.details_object, now=self.now)
        if state is not None:
            repeated = self.repeated_answer(state)
            if repeated is not None:
                return repeated
            why = self.identity.differs(state.identity)
            if why or state.final:
                log.info("hookDetails holds another validation's progress (%s); starting afresh", why or "ended")
                state = None
            else:
                self.round, self.started_at = state.round + 1, state.started_at
        states: dict[str, CheckState] = dict(state.checks) if state else {}

        key, checks = lifecycle.checks_for(spec.hooks, ev.stage)
        if not checks:
            other = lifecycle.equivalent(ev.stage)
            return self.final(
                True,
                Verdict.PASSED.value,
                f"no checks configured for {ev.stage}"
                + (f" (nor for its CodeDeploy equivalent {other})" if other else ""),
            )
        known = {c.name for c in checks}
        dropped = sorted(set(states) - known)
        if dropped:
            log.warning("progress of checks no longer in the spec is dropped: %s", ", ".join(dropped))
            states = {k: v for k, v in states.items() if k in known}
        # Refuse up front a spec whose progress could never be carried to the next invocation.
        ensure_room(
            self.identity, self.round, self.started_at, ((c.name, c.policy.count) for c in checks), now=self.now
        )

        judged = self.judge(spec, time_left)
        if judged.rollback and not ev.rollback and spec.on_rollback == "pass":
            return self.skipped(
                f"the service deployment is rolling back: on_rollback is pass, {ev.stage} is not checked"
            )
        if judged.first_deployment and spec.on_first_deployment == "pass":
            return self.skipped(
                "first deployment of the service (no source revision to replace): on_first_deployment is pass"
            )
        spec = self.within_hook_timeout(spec, judged.hook)

        rounds = plan.Rounds(self.started_at, states) if ev.resumable else None
        if not ev.resumable:
            log.warning(
                "the service's hookDetails is a %s, not an object: greenlight cannot carry its progress between "
                "invocations, so this validation runs in this one invocation (max_duration is bounded by the "
                "function's timeout); the service's value is left as it is",
                _json_type(ev.hook_details),
            )
        planned = plan.prepare(spec, ev.stage, time=time_left, discovery=judged.discovery, rounds=rounds)
        weights = ev.traffic_weights()
        rollback = judged.rollback or ev.rollback
        report_context: dict[str, Any] = {
            "controller": CONTROLLER,
            "stage": ev.stage,
            "spec_key": key,
            "execution_id": ev.execution_id,
            "service_arn": ev.service_arn,
            "service_deployment_arn": ev.resource_arn,
            "target_revision_arn": ev.target_revision_arn,
            "traffic_weights": weights,
            "round": self.round,
            "started_at": self.started_at,
            "first_deployment": judged.first_deployment,
            "rollback": rollback,
            "source": spec.source,
        }
        if planned.deployment is not None:
            report_context["deployment"] = planned.deployment.summary()
        outcome = plan.execute(
            planned,
            aws=self.aws,
            settings={
                "traffic_weights": weights,
                "stage": ev.stage,
                "rollback": rollback,
                "first_deployment": judged.first_deployment,
            },
            context=report_context,
        )
        result = outcome.result
        if outcome.in_progress:
            log_progress(result, self.round)
            run_metrics.record(self.metrics_sink, run_metrics.HOOK_IN_PROGRESS, hook=ev.stage)
            now = self.clock.time()
            due = outcome.next_due if outcome.next_due is not None else now
            ends = planned.ends_at if planned.ends_at is not None else due
            paused = HookState(self.identity, self.round, self.started_at, outcome.states)
            return reporting.in_progress(paused, min(due, ends) - now)
        log_result(result)
        run_metrics.record_run(self.metrics_sink, result)
        return self.final(result.succeeded, result.verdict.value, result.reason, reporting.results_of(result))

    def repeated_answer(self, state: HookState) -> dict[str, Any] | None:
        """The answer already given, when `state` says this validation has ended; else None.

        A repeated invocation must not flip an answer: a SUCCEEDED is repeated for the same validation only
        (a later traffic step is a new one), and a FAILED of this stage in this service deployment, or one
        written by an invocation that could not even read its event, is repeated whatever the weights or
        executionId, except for a rollback re-run, which is a validation of its own and must not be blocked
        by the failure that started the rollback.
        """
        if not state.final:
            return None
        theirs, mine = state.identity, self.identity
        if state.status == reporting.FAILED:
            same_deployment = theirs.deployment_arn in ("", mine.deployment_arn)
            same_stage = theirs.stage in ("", mine.stage)
            if not (same_deployment and same_stage) or self.ev.rollback:
                return None
        elif mine.differs(theirs):
            return None
        log.warning("this validation already ended (%s); returning the same answer", state.status)
        self.round, self.started_at = max(state.round, 1), state.started_at
        return self.final(
            state.status == reporting.SUCCEEDED,
            state.verdict or "",
            state.reason or f"{state.status} by an earlier invocation",
            state.results,
        )

    def judge(self, spec: Any, time_left: plan.TimeLeft) -> _Judged:
        """Discovery for the plan (None when the checks need none), and what the service deployment says:
        first deployment, rollback, this hook's timeout.

        DescribeServiceDeployments is bounded by the time left beyond the reserve (plan.TimeLeft.bounded), so a slow or
        unreachable API cannot eat the time kept for answering. When it fails and the checks need nothing
        discovered, the validation goes on from the event alone: rollback from the weight maps, and no first
        deployment (so the checks run: the safe side).
        """
        from greenlight.discovery.ecs import EcsDiscovery
        from greenlight.discovery.model import DiscoveryError

        ev = self.ev
        wanted = plan.needs(spec, ev.stage)
        needed = wanted.deployment or bool(wanted.listeners)
        discovery = EcsDiscovery(
            service_deployment_arn=ev.resource_arn,
            service_arn=ev.service_arn,
            target_revision_arn=ev.target_revision_arn,
            test_weights=ev.test_weights,
            production_weights=ev.production_weights,
            aws=self.aws,
        )
        try:
            facts = time_left.bounded(
                "DescribeServiceDeployments", lambda: discovery.deployment_facts(self.function_arn())
            )
        except (DiscoveryError, TimeoutError) as exc:
            if needed:
                raise
            log.warning("%s; first deployment and rollback are judged from the event alone", exc)
            return _Judged(None, False, False, None)
        return _Judged(discovery if needed else None, facts.first_deployment, facts.rollback, facts.hook)

    def function_arn(self) -> str | None:
        arn = getattr(self.lambda_context, "invoked_function_arn", None)
        return arn if isinstance(arn, str) else None

    def within_hook_timeout(self, spec: Any, hook: Any) -> Any:
        """The spec with max_duration capped so the validation ends before the hook's own timeout."""
        if hook is None:
            return spec
        if hook.timeout_action == "CONTINUE":
            log.warning(
                "this hook's timeoutAction is CONTINUE: should a validation outlast the hook's timeout, ECS "
                "would carry on with the deployment; greenlight ends its validation %gs before %s to answer first",
                HOOK_TIMEOUT_MARGIN,
                hook.expires_at_text,
            )
        if hook.expires_at is None:
            return spec
        left = hook.expires_at - self.started_at
        # A hook timeout may be as short as one minute: keep a quarter of what is left, at most the margin.
        room = left - min(HOOK_TIMEOUT_MARGIN, max(left, 0.0) / 4)
        if room >= spec.max_duration:
            return spec
        log.warning(
            "max_duration %gs capped to %gs: the hook times out at %s (%s)",
            spec.max_duration,
            max(room, 0.0),
            hook.expires_at_text,
            hook.timeout_action or "ROLLBACK",
        )
        # A validation past its end decides from what it has measured (greenlight.plan): never 0 or less here.
        return dataclasses.replace(spec, max_duration=max(room, 0.001))


@dataclass(frozen=True)
class _Judged:
    discovery: Any
    first_deployment: bool
    rollback: bool
    hook: Any  # greenlight.discovery.ecs.HookTimeout, or None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {str: "string", list: "list", bool: "boolean"}.get(type(value), "number")


# --- entry points -------------------------------------------------------------------------------------


def _expected(exc: Exception) -> bool:
    """An error of the event, the configuration or the environment, whose message says what to fix."""
    # Imported here: the spec package is heavy, and the cold start stays small without it.
    from greenlight.discovery.model import DiscoveryError
    from greenlight.spec.errors import SpecError, SpecSourceError

    expected = (InvalidEventError, SettingsError, StateError, StateTooLargeError, TimeoutError)
    return isinstance(exc, expected + (SpecError, SpecSourceError, DiscoveryError))


def handle(
    event: Any,
    context: Any,
    *,
    aws: Any = None,
    env: Mapping[str, str] | None = None,
    metrics_sink: Any = None,
    clock: Clock = SYSTEM,
) -> dict[str, Any]:
    """Validate one ECS lifecycle hook invocation and return the answer for ECS. Never raises."""
    identity: dict[str, str] = {}
    try:
        ev = parse_event(event)
        identity = {
            "stage": ev.stage,
            "resourceArn": ev.resource_arn,
            "targetServiceRevisionArn": ev.target_revision_arn,
            "executionId": ev.execution_id,
        }
        if aws is None:
            from greenlight.aws import AwsClients

            aws = AwsClients()
        return _Invocation(ev, context, aws=aws, env=env, metrics_sink=metrics_sink, clock=clock).run()
    except Exception as exc:  # never raise: ECS would roll back without a reason
        reason = f"{type(exc).__name__}: {exc}"
        if _expected(exc):  # the message says all there is to know: no traceback
            log.error("returning FAILED: %s", reason)
        else:
            log.exception("validation did not complete; returning FAILED: %s", reason)
    run_metrics.record(metrics_sink, run_metrics.HOOK_FAILED)
    return reporting.failure(reason, identity)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if os.getenv("GREENLIGHT_LOG_EVENT", "").lower() in ("1", "true", "yes"):
        logger.info("event", extra={"event": event})
    return handle(event, context, metrics_sink=metrics)
