"""ECS PAUSE hooks: the EventBridge target that hands a paused deployment to the durable worker, and the verdict's call.

A PAUSE lifecycle hook holds an ECS service deployment at a stage until ContinueServiceDeployment is
called with the hook's id and CONTINUE or ROLLBACK, or until the hook's timeout
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html). When it pauses,
ECS emits an EventBridge event with detail-type "ECS Hook State Change" and event name
HOOK_AWAITING_ACTION. The Developer Guide documents those two values and no more of the event's shape:
this module assumes only that the event names the service deployment, either in `detail` (a field whose
value is a service-deployment ARN) or in `resources`, and takes everything else from
DescribeServiceDeployments (`lifecycleHookDetails`: hookId, status AWAITING_ACTION, expiresAt; botocore
ecs model DeploymentLifecycleHookDetail), which is documented.

The validation may last until the hook's `expiresAt`, less the reserve for reporting: the job's
`report_by`. When the durable execution cannot be started, the deployment is rolled back at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from typing import Any

from greenlight import lifecycle
from greenlight.aws.errors import error_code, explain
from greenlight.durable.job import ECS_PAUSE, Job
from greenlight.durable.start import WORKER_VARIABLE, StartError, start
from greenlight.engine.clock import SYSTEM, Clock
from greenlight.handlers.inputs import InvalidEventError, SettingsError

DETAIL_TYPE = "ECS Hook State Change"
AWAITING = "HOOK_AWAITING_ACTION"
CONTINUE, ROLLBACK = "CONTINUE", "ROLLBACK"
# The stage whose checks the PAUSE hook runs (template parameter PauseStage).
STAGE_VARIABLE = "GREENLIGHT_PAUSE_STAGE"

log = logging.getLogger("greenlight.durable")

IAM_ACTIONS: tuple[str, ...] = (
    "ecs:DescribeServiceDeployments",
    "ecs:ContinueServiceDeployment",
    "lambda:InvokeFunction",
)


def _deployment_arn(event: Mapping[str, Any]) -> str | None:
    detail = event.get("detail")
    candidates: list[Any] = []
    if isinstance(detail, Mapping):
        candidates += [detail.get("serviceDeploymentArn"), detail.get("deploymentArn")]
        candidates += [v for v in detail.values() if isinstance(v, str)]
    resources = event.get("resources")
    if isinstance(resources, list):
        candidates += resources
    for value in candidates:
        if isinstance(value, str) and value.startswith("arn:") and ":service-deployment/" in value:
            return value
    return None


def parse_event(event: Any) -> tuple[str, str | None]:
    """(the service deployment ARN, the hookId if the event names one); InvalidEventError otherwise."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"expected an EventBridge event (a JSON object), got {type(event).__name__}")
    kind = event.get("detail-type")
    if kind != DETAIL_TYPE:
        raise InvalidEventError(f"detail-type {kind!r} is not {DETAIL_TYPE!r}; the rule should match only those")
    raw = event.get("detail")
    detail: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    name = detail.get("eventName")
    if name is not None and name != AWAITING:
        raise InvalidEventError(f"detail.eventName {name!r} is not {AWAITING}: nothing is paused")
    arn = _deployment_arn(event)
    if arn is None:
        raise InvalidEventError(
            "the event names no service deployment ARN (looked in detail and resources); "
            f"keys of detail: {', '.join(sorted(map(str, detail))) or 'none'}"
        )
    hook_id = detail.get("hookId")
    return arn, hook_id if isinstance(hook_id, str) and hook_id else None


def _epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    raise ValueError(f"expiresAt {value!r} is not a time")


def paused_hook(ecs: Any, deployment_arn: str, hook_id: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the service deployment, its PAUSE hook awaiting action) from DescribeServiceDeployments."""
    answer = ecs.describe_service_deployments(serviceDeploymentArns=[deployment_arn])
    deployments = answer.get("serviceDeployments") or []
    if not deployments:
        failures = answer.get("failures") or []
        raise LookupError(f"service deployment {deployment_arn} not found: {failures}")
    deployment = deployments[0]
    for hook in deployment.get("lifecycleHookDetails") or []:
        if hook.get("targetType") != "PAUSE" or hook.get("status") != "AWAITING_ACTION":
            continue
        if hook_id is None or hook.get("hookId") == hook_id:
            return deployment, hook
    raise LookupError(f"service deployment {deployment_arn} has no PAUSE hook awaiting action")


def job_for(ecs: Any, event: Any, *, stage: str, clock: Clock = SYSTEM) -> Job:
    """The durable job of the paused hook the event announces."""
    arn, hook_id = parse_event(event)
    deployment, hook = paused_hook(ecs, arn, hook_id)
    current = deployment.get("lifecycleStage")
    if current and current != stage:
        # PRE_PRODUCTION_TRAFFIC_SHIFT is no ServiceDeploymentLifecycleStage value (botocore ecs model): ECS
        # shows the previous stage while it runs, so a difference is logged, not refused.
        log.warning("the service deployment is at %s; running the checks of %s (%s)", current, stage, STAGE_VARIABLE)
    now = clock.time()
    expires = _epoch(hook.get("expiresAt")) if hook.get("expiresAt") is not None else now + 1440 * 60
    target = deployment.get("targetServiceRevision") or {}
    return Job(
        controller=ECS_PAUSE,
        hook=stage,
        started_at=now,
        report_by=max(expires, now + 1),  # the worker keeps its reserve before it
        ids={
            "serviceDeploymentArn": arn,
            "hookId": str(hook["hookId"]),
            "serviceArn": str(deployment.get("serviceArn") or ""),
            "targetServiceRevisionArn": str(target.get("arn") or ""),
        },
    )


def continue_deployment(ecs: Any, deployment_arn: str, hook_id: str, succeeded: bool) -> tuple[str, bool]:
    """ContinueServiceDeployment with the verdict's action: (the action, whether this call decided the hook).

    A hook no longer awaiting action (an earlier report, an operator, its timeout) is left as it is.
    """
    action = CONTINUE if succeeded else ROLLBACK
    try:
        ecs.continue_service_deployment(serviceDeploymentArn=deployment_arn, hookId=hook_id, action=action)
    except Exception as exc:
        try:
            paused_hook(ecs, deployment_arn, hook_id)
        except LookupError:
            log.warning("hook %s of %s no longer awaits action; %s not sent (%s)", hook_id, deployment_arn, action, exc)
            return action, False
        except Exception:
            log.debug("cannot tell whether hook %s still awaits action", hook_id, exc_info=True)
        raise RuntimeError(
            f"cannot {action} service deployment {deployment_arn}: "
            f"{explain(exc, 'ecs:ContinueServiceDeployment') if error_code(exc) else exc}"
        ) from exc
    log.info("%s sent for PAUSE hook %s of %s", action, hook_id, deployment_arn)
    return action, True


def handle(
    event: Any, context: Any, *, aws: Any = None, env: Mapping[str, str] | None = None, clock: Clock = SYSTEM
) -> dict[str, Any]:
    """Start the durable validation of a paused hook; roll the deployment back when it cannot be started."""
    env = os.environ if env is None else env
    if aws is None:
        from greenlight.aws import AwsClients

        aws = AwsClients()
    stage = env.get(STAGE_VARIABLE, "")
    function = env.get(WORKER_VARIABLE, "")
    if stage not in lifecycle.ECS_STAGES or not function:
        raise SettingsError(
            f"{STAGE_VARIABLE}={stage!r} must be an ECS lifecycle stage and {WORKER_VARIABLE} the durable worker's ARN"
        )
    ecs = aws.client("ecs")
    job = job_for(ecs, event, stage=stage, clock=clock)
    try:
        started = start(aws.client("lambda"), function, job)
    except StartError as exc:
        log.error("%s; rolling the deployment back", exc)
        action, recorded = continue_deployment(ecs, job.ids["serviceDeploymentArn"], job.ids["hookId"], succeeded=False)
        return {"started": False, "action": action, "recorded": recorded, "reason": str(exc)}
    return {"started": True, "name": started.name, "already": started.already, "hookId": job.ids["hookId"]}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Entry point of the PAUSE hook's EventBridge target (template: PauseHookFunction)."""
    return handle(event, context)
