"""The durable worker: runs a hook's validation in rounds inside a Lambda durable execution, and reports once.

Each round is a durable step: it loads the spec, resumes the checks from the tallies the previous round
checkpointed, measures what is due (holding the invocation through short intervals, at most `hold`
seconds past one measurement), and returns either the progress to resume or the verdict. Between rounds
the execution waits (`context.wait`), which is checkpointed and not billed; a worker that dies between or
inside rounds is replayed from the last checkpoint, so its tallies are never counted twice or lost. The
verdict is what one uninterrupted run reaches (greenlight.engine.run).

The run ends, with the reserve for reporting, by the job's `report_by` (CodeDeploy's hour from the hook's
start, or the PAUSE hook's `expiresAt`), whatever `max_duration` says; then a last durable step reports:
PutLifecycleEventHookExecutionStatus for CodeDeploy, ContinueServiceDeployment for an ECS PAUSE hook. A
failure at a hook after production traffic moved (AfterAllowTraffic, POST_PRODUCTION_TRAFFIC_SHIFT) is
a breach of the bake window: CodeDeploy's deployment is stopped with rollback first
(StopDeployment autoRollbackEnabled), ECS's rolled back (action ROLLBACK).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from greenlight import lifecycle, plan
from greenlight.durable.job import CODE_DEPLOY, Job, JobError
from greenlight.engine.clock import SYSTEM, Clock
from greenlight.engine.model import CheckState, Verdict
from greenlight.engine.run import room_for_a_measurement
from greenlight.handlers.inputs import Settings, remaining_seconds
from greenlight.reporting.ecs import results_of
from greenlight.reporting.ecs_state import STATE_KEY, HookState, Identity, decode, encode
from greenlight.reporting.log import log_progress, log_result

log = logging.getLogger("greenlight.durable")

# What the worker calls besides the reporters and discovery it uses: the SDK's checkpoints (botocore lambda
# model), and StopDeployment on a breach after production traffic moved.
IAM_ACTIONS: tuple[str, ...] = (
    "lambda:CheckpointDurableExecution",
    "lambda:GetDurableExecutionState",
    "codedeploy:StopDeployment",
    "codedeploy:PutLifecycleEventHookExecutionStatus",
    "codedeploy:GetDeployment",
    "codedeploy:GetDeploymentGroup",
    "codedeploy:GetDeploymentTarget",
    "codedeploy:ListDeploymentTargets",
    "ecs:ContinueServiceDeployment",
)

# Seconds a round keeps measuring past what one measurement of every check needs: waits shorter than
# this are spent in the invocation, longer ones in a (free) durable wait. GREENLIGHT_ROUND_HOLD sets it.
DEFAULT_HOLD = 5.0
# What a round needs beyond its measurements' own time (starting the checks' threads, a check's prepare):
# without it, a round with no hold would pause before its first measurement.
ROUND_MARGIN = 0.5
# A step's result is checkpointed; this bounds the progress it carries (far below the SDK's limits).
MAX_PROGRESS_BYTES = 64 * 1024
# Hooks that run once production traffic is on green: a failure there is a breach of the bake window.
BAKE_HOOKS = frozenset({"AfterAllowTraffic", "POST_PRODUCTION_TRAFFIC_SHIFT"})
STOPPED = "stopped with rollback"


def hold_from(env: Mapping[str, str]) -> float:
    raw = env.get("GREENLIGHT_ROUND_HOLD", "")
    if not raw:
        return DEFAULT_HOLD
    try:
        value = float(raw)
        if value < 0 or not math.isfinite(value):
            raise ValueError
    except ValueError as exc:
        raise ValueError(f"GREENLIGHT_ROUND_HOLD={raw!r} is not a number of seconds >= 0") from exc
    return value


@dataclass
class Worker:
    """Rounds and the report of durable validations; `aws`, `env` and `clock` are injectable for tests."""

    aws: Any = None
    env: Mapping[str, str] | None = None
    clock: Clock = SYSTEM
    metrics_sink: Any = None

    def _aws(self) -> Any:
        if self.aws is None:
            from greenlight.aws import AwsClients

            self.aws = AwsClients()
        return self.aws

    # --- the durable function -----------------------------------------------------------------------

    def validate(self, event: Any, context: Any) -> dict[str, Any]:
        """The durable execution: rounds and waits until a verdict, then the report (context: DurableContext)."""
        from aws_durable_execution_sdk_python.config import Duration

        try:
            job = Job.from_payload(event)
        except JobError as exc:
            # Nothing names a hook to report to: the execution ends failed, with why.
            log.error("%s", exc)
            raise
        progress: dict[str, Any] | None = None
        number = 0
        while True:
            number += 1
            prior = progress
            outcome = context.step(
                lambda _step, prior=prior: self.round(job, prior, context.lambda_context), name=f"round-{number}"
            )
            if outcome["final"]:
                break
            progress = outcome["progress"]
            context.wait(Duration.from_seconds(max(1, math.ceil(outcome["wait"]))), name=f"wait-{number}")
        return dict(context.step(lambda _step: self.report(job, outcome), name="report"))

    # --- one round ----------------------------------------------------------------------------------

    def round(self, job: Job, progress: Mapping[str, Any] | None, lambda_context: Any) -> dict[str, Any]:
        """One round of the job's checks from `progress`; never raises (an error is a failed verdict)."""
        number = int(progress.get("round", 0)) + 1 if progress else 1
        try:
            return self._round(job, progress, lambda_context)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.exception("round %d did not complete; the verdict is ERROR: %s", number, reason)
            return _final(False, Verdict.ERROR.value, reason, {}, number)

    def _round(self, job: Job, progress: Mapping[str, Any] | None, lambda_context: Any) -> dict[str, Any]:
        clock = self.clock
        env = os.environ if self.env is None else self.env
        aws = self._aws()
        identity = _identity(job)
        state = decode({STATE_KEY: dict(progress)}, now=clock.time()) if progress else None
        if state is not None and identity.differs(state.identity):
            raise ValueError(f"the checkpointed progress is another validation's ({identity.differs(state.identity)})")
        number = state.round + 1 if state else 1
        states: dict[str, CheckState] = dict(state.checks) if state else {}

        settings = Settings.from_env(env, allowed_hooks=lifecycle.ALL_HOOK_NAMES)
        spec = plan.load_spec(settings.spec_location, env, aws)
        reserve = plan.reserve_for(spec, settings.reserve)
        spec = _within_limit(spec, job, reserve)
        checks = plan.build_checks(spec, job.hook)
        if not checks:
            return _final(True, Verdict.PASSED.value, f"no checks configured for {job.hook}", {}, number)
        room = room_for_a_measurement(checks, states)
        hold = hold_from(env)
        # The round measures while this invocation lasts, and no longer than one measurement plus `hold`:
        # longer waits are cheaper as durable waits than as a held invocation.
        time_left = plan.TimeLeft(
            lambda: min(remaining_seconds(lambda_context), reserve + room + max(hold, ROUND_MARGIN)),
            reserve,
            clock,
            remedy="raise the durable worker's timeout",
        )
        planned = plan.prepare(
            spec,
            job.hook,
            time=time_left,
            discovery=self._discovery(job),
            rounds=plan.Rounds(job.started_at, states),
        )
        context = {"controller": job.controller, **job.ids, "round": number, "started_at": job.started_at}
        outcome = plan.execute(planned, aws=aws, settings={"stage": job.hook, "durable": True}, context=context)
        result = outcome.result
        if outcome.in_progress:
            log_progress(result, number)
            now = clock.time()
            due = outcome.next_due if outcome.next_due is not None else now
            ends = planned.ends_at if planned.ends_at is not None else due
            paused = HookState(identity, number, job.started_at, outcome.states)
            return {
                "final": False,
                "progress": encode(paused, limit=MAX_PROGRESS_BYTES),
                "wait": max(min(due, ends) - now, 0.0),
                "round": number,
            }
        log_result(result)
        final = _final(result.succeeded, result.verdict.value, result.reason, results_of(result), number)
        # What the report says of each check, kept small: a step's result is checkpointed.
        final["checks"] = [
            {"name": c.name, "kind": c.kind, "status": c.status.value, "reason": c.reason[:500], "counts": c.counts}
            for c in result.checks
        ]
        return final

    def _discovery(self, job: Job) -> Any:
        if job.controller == CODE_DEPLOY:
            from greenlight.discovery.codedeploy import CodeDeployDiscovery

            return CodeDeployDiscovery(job.ids["deploymentId"], self._aws())
        from greenlight.discovery.ecs import EcsDiscovery

        return EcsDiscovery(
            service_deployment_arn=job.ids["serviceDeploymentArn"],
            service_arn=job.ids.get("serviceArn", ""),
            target_revision_arn=job.ids.get("targetServiceRevisionArn", ""),
            aws=self._aws(),
        )

    # --- the report ---------------------------------------------------------------------------------

    def report(self, job: Job, outcome: Mapping[str, Any]) -> dict[str, Any]:
        """Tell the controller the verdict (a durable step: once its result is checkpointed it never runs again),
        then publish the validation's report: after the controller has its answer, so it can neither delay nor
        change it."""
        answer = self._report(job, outcome)
        if answer.get("recorded"):
            from greenlight.reporting import publish

            run = {
                "hook": job.hook,
                "verdict": outcome.get("verdict"),
                "succeeded": bool(outcome.get("succeeded")),
                "reason": outcome.get("reason") or "",
                "checks": outcome.get("checks") or [],
                "context": {"durable": True, "round": outcome.get("round")},
            }
            published = publish.publish_verdict(
                run,
                controller=job.controller,
                hook=job.hook,
                reason=str(outcome.get("reason") or ""),
                aws=self._aws(),
                time_left=job.report_by - self.clock.time(),
                env=self.env,
                deployment=dict(job.ids),
            )
            answer["report_key"] = published.key
        return answer

    def _report(self, job: Job, outcome: Mapping[str, Any]) -> dict[str, Any]:
        succeeded = bool(outcome.get("succeeded"))
        time_left: Callable[[], float] = lambda: job.report_by - self.clock.time()  # noqa: E731
        answer = {key: outcome.get(key) for key in ("verdict", "reason", "round")}
        if job.controller == CODE_DEPLOY:
            from greenlight.reporting.codedeploy import CodeDeployReporter, ReportError

            client = self._aws().client("codedeploy")
            if not succeeded and job.hook in BAKE_HOOKS:
                answer["rollback"] = _stop_with_rollback(client, job.ids["deploymentId"], str(outcome.get("reason")))
            reporter = CodeDeployReporter(
                client, job.ids["deploymentId"], job.ids["lifecycleEventHookExecutionId"], time_left=time_left
            )
            try:
                reported = reporter.report(succeeded)
            except ReportError as exc:
                if answer.get("rollback") != STOPPED:
                    raise
                # A stopped deployment has no hook execution left to complete: the rollback was the report.
                return {**answer, "status": "Failed", "recorded": False, "error": str(exc)}
            return {**answer, "status": reported.status, "recorded": reported.recorded}
        from greenlight.durable.pause import continue_deployment

        action, recorded = continue_deployment(
            self._aws().client("ecs"), job.ids["serviceDeploymentArn"], job.ids["hookId"], succeeded
        )
        return {**answer, "status": action, "recorded": recorded}


def _final(succeeded: bool, verdict: str, reason: str, results: Mapping[str, Any], number: int) -> dict[str, Any]:
    return {
        "final": True,
        "succeeded": succeeded,
        "verdict": verdict,
        "reason": reason[:2000],
        "results": dict(results),
        "round": number,
    }


def _identity(job: Job) -> Identity:
    scope = job.ids.get("deploymentId") or job.ids.get("serviceDeploymentArn") or ""
    return Identity(job.hook, job.execution_key, scope)


def _within_limit(spec: Any, job: Job, reserve: float) -> Any:
    """The spec with max_duration capped so the run ends, with the reserve for reporting, by `report_by`
    (as the ECS hook caps it by its hook's expiresAt); a run past its end decides from what it measured."""
    room = job.report_by - reserve - job.started_at
    if room >= spec.max_duration:
        return spec
    log.info(
        "max_duration %gs capped to %gs: the controller must have the verdict by %.0f",
        spec.max_duration,
        room,
        job.report_by,
    )
    return dataclasses.replace(spec, max_duration=max(room, 0.001))


def _stop_with_rollback(client: Any, deployment_id: str, reason: str) -> str:
    """StopDeployment with autoRollbackEnabled; what happened, in words (a refusal is logged, not raised:
    reporting Failed still fails the deployment)."""
    try:
        client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    except Exception as exc:
        log.error("cannot stop deployment %s with rollback after a breach (%s); reporting Failed", deployment_id, exc)
        return f"not stopped: {exc}"
    log.warning("bake breach: stopped deployment %s with rollback: %s", deployment_id, reason)
    return STOPPED


def make_handler(worker: Worker | None = None) -> Callable[[Any, Any], Any]:
    """The Lambda handler of the durable worker (the SDK's durable_execution around Worker.validate)."""
    from aws_durable_execution_sdk_python.execution import durable_execution

    worker = worker or Worker()
    return durable_execution(worker.validate)


def handler(event: Any, context: Any) -> Any:
    """Entry point of the durable worker function (template: DurableWorkerFunction)."""
    return _HANDLER(event, context)


_HANDLER = make_handler()
