"""Lambda handler for CodeDeploy ECS lifecycle hooks (BeforeInstall ... AfterAllowTraffic).

One invocation is a run of one round: the event and settings are read here, greenlight.plan turns the
spec into checks, target and budget (discovering green when the checks need it), the engine runs them,
and the reporter tells CodeDeploy. The status starts as Failed and is reported exactly once, whatever
happens in between: an invalid spec, a crashing check or too little time left all end in Failed with the
reason in the logs.

Checks that may need longer than the invocation has (greenlight.durable.start.hand_over) are handed to
the durable worker when GREENLIGHT_DURABLE_FUNCTION names it: the invocation then returns without
reporting, and the worker reports; if the worker cannot be started, the hook reports Failed at once.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import CodeDeployLifecycleHookEvent, event_source

from greenlight import plan
from greenlight.engine.deadline import Deadline
from greenlight.handlers.inputs import InvalidEventError, Settings, SettingsError, remaining_seconds
from greenlight.lifecycle import CODEDEPLOY_HOOKS
from greenlight.reporting import metrics as run_metrics
from greenlight.reporting import publish
from greenlight.reporting.codedeploy import CodeDeployReporter
from greenlight.reporting.log import log_result

logger = Logger(service=os.getenv("POWERTOOLS_SERVICE_NAME", "greenlight"))
metrics = Metrics(namespace=os.getenv("POWERTOOLS_METRICS_NAMESPACE", "greenlight"))
log = logging.getLogger("greenlight.handler")

_DEPLOYMENT_ID = re.compile(r"d-[A-Z0-9]{9}")


def parse_event(event: Any) -> tuple[str, str]:
    """(DeploymentId, LifecycleEventHookExecutionId), or InvalidEventError naming every problem."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(
            f"expected a CodeDeploy lifecycle hook event (a JSON object), got {type(event).__name__}"
        )
    problems = []
    deployment_id = event.get("DeploymentId")
    execution_id = event.get("LifecycleEventHookExecutionId")
    if not deployment_id:
        problems.append("DeploymentId is missing")
    elif not isinstance(deployment_id, str) or not _DEPLOYMENT_ID.fullmatch(deployment_id):
        problems.append(f"DeploymentId {deployment_id!r} is not a deployment id (d-XXXXXXXXX)")
    if not execution_id:
        problems.append("LifecycleEventHookExecutionId is missing")
    elif not isinstance(execution_id, str) or len(execution_id) > 1024:
        problems.append("LifecycleEventHookExecutionId is not a string id")
    if problems:
        keys = ", ".join(sorted(map(str, event))) or "none"
        raise InvalidEventError(
            "not a CodeDeploy lifecycle hook event: " + "; ".join(problems) + f" (event keys: {keys}). "
            "Nothing was probed and nothing can be reported without these ids; "
            "to try a hook by hand, use events/*.json or `greenlight check`."
        )
    return str(deployment_id), str(execution_id)


def handle(
    event: Mapping[str, Any],
    context: Any,
    *,
    aws: Any = None,
    env: Mapping[str, str] | None = None,
    metrics_sink: Any = None,
) -> dict[str, Any]:
    """Validate and report one hook execution. Raises only when nothing could be reported."""
    deployment_id, execution_id = parse_event(event)
    started_at = time.time()  # the hook's start, as near as this invocation knows it (CodeDeploy's hour)
    if aws is None:
        from greenlight.aws import AwsClients

        aws = AwsClients()
    started_left = remaining_seconds(context)
    deadline_for_report = Deadline.after(started_left)
    reporter = CodeDeployReporter(
        aws.client("codedeploy"), deployment_id, execution_id, time_left=deadline_for_report.remaining
    )
    succeeded, reason, verdict = False, "not validated", "ERROR"
    result = None  # the engine's run, for the report; None when the validation did not complete
    try:
        settings = Settings.from_env(env, allowed_hooks=CODEDEPLOY_HOOKS)
        if settings.hook is None:
            raise SettingsError(
                f"GREENLIGHT_HOOK is not set; set it to the hook this function serves: {CODEDEPLOY_HOOKS}"
            )
        # Before the spec is read, its report_reserve is unknown: the function's own setting, else the default.
        before_spec = plan.TimeLeft(lambda: remaining_seconds(context), plan.reserve_for(None, settings.reserve))
        if settings.reserve is None:
            # A spec's smaller report_reserve is not known yet: say which setting applies until it is.
            before_spec = replace(
                before_spec,
                remedy=f"{before_spec.remedy}, or set GREENLIGHT_REPORT_RESERVE (the reserve kept until the spec "
                f"is read, default {plan.DEFAULT_RESERVE:g}s)",
            )
        time_left = before_spec
        time_left.beyond_reserve("at start")
        from greenlight.discovery.codedeploy import CodeDeployDiscovery

        discovery = CodeDeployDiscovery(deployment_id, aws)
        hook = settings.hook
        # A fresh look-up (discovery keeps its answers): what CodeDeploy holds once this report is refused.
        reporter.recorded_status = lambda: CodeDeployDiscovery(deployment_id, aws).lifecycle_event_status(hook)
        # Every AWS call before the engine runs is bounded by the time beyond the reserve, not only per attempt.
        earlier = time_left.bounded("the look-up of an earlier outcome", lambda: _earlier_outcome(discovery, hook))
        if earlier is not None:
            # A repeated invocation (at-least-once delivery): probing again could only flip the first result.
            log.warning(
                "hook %s of deployment %s already completed as %s; not validating or reporting again",
                settings.hook,
                deployment_id,
                earlier,
                extra={"deployment_id": deployment_id, "execution_id": execution_id},
            )
            return {
                "deploymentId": deployment_id,
                "status": earlier,
                "recorded": False,
                "verdict": "ALREADY_COMPLETED",
                "reason": f"hook {settings.hook} already completed as {earlier} by an earlier invocation",
            }

        spec = time_left.bounded("loading the spec", lambda: plan.load_spec(settings.spec_location, env, aws))
        time_left = plan.TimeLeft(time_left.left, plan.reserve_for(spec, settings.reserve))
        # Checks that may outlast this invocation go to the durable worker, which reports instead of this one.
        from greenlight.durable.start import hand_over

        handed = hand_over(
            plan.build_checks(spec, hook),
            hook,
            deployment_id=deployment_id,
            execution_id=execution_id,
            started_at=started_at,
            seconds=time_left.beyond_reserve("before planning"),
            aws=aws,
            env=env,
            time_left=time_left.left,
        )
        if handed is not None:
            return {
                "deploymentId": deployment_id,
                "status": "HANDED_OVER",
                "recorded": False,
                "verdict": "IN_PROGRESS",
                "reason": f"validation handed to durable execution {handed.name}; it reports",
            }
        planned = plan.prepare(spec, settings.hook, time=time_left, discovery=discovery)
        run_context: dict[str, Any] = {
            "deployment_id": deployment_id,
            "source": spec.source,
            "test_url": planned.target.test_url,
            "prod_url": planned.target.prod_url,
        }
        if planned.deployment is not None:
            reporter.deployment_group = planned.deployment.deployment_group
            run_context["discovered"] = planned.deployment.summary()
        result = plan.execute(planned, aws=aws, context=run_context).result
        log_result(result)
        run_metrics.record_run(metrics_sink, result, controller="CODE_DEPLOY")
        succeeded, reason, verdict = result.succeeded, result.reason, result.verdict.value
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        log.exception("validation did not complete; reporting Failed: %s", reason)
    outcome = reporter.report(succeeded)
    if not outcome.recorded:
        # Another invocation reported first: what holds is CodeDeploy's record, not this run's verdict.
        reason = f"already completed as {outcome.status} by an earlier invocation; this one's {verdict} ({reason})"
        verdict = "ALREADY_COMPLETED"
    report_key = None
    if outcome.recorded:
        # CodeDeploy has its status: publishing the report can neither delay nor change it.
        published = publish.publish_verdict(
            result,
            controller="CODE_DEPLOY",
            hook=(os.environ if env is None else env).get("GREENLIGHT_HOOK"),
            reason=reason,
            aws=aws,
            time_left=remaining_seconds(context),
            env=env,
            deployment={"id": deployment_id},
        )
        report_key = published.key
    return {
        "deploymentId": deployment_id,
        "status": outcome.status,
        "recorded": outcome.recorded,
        "verdict": verdict,
        "reason": reason,
        "report_key": report_key,
    }


def _earlier_outcome(discovery: Any, hook: str) -> str | None:
    """Succeeded/Failed when this hook's lifecycle event already ended; None when not, or when unknown."""
    from greenlight.discovery.codedeploy import hook_already_completed

    try:
        if hook_already_completed(discovery.deployment_id, hook, discovery=discovery):
            status: str | None = discovery.lifecycle_event_status(hook)  # answered from the same call
            return status
    except Exception as exc:
        # Not knowing must not block validation: the reporter still refuses to flip a completed execution.
        log.warning("cannot tell whether hook %s already completed (%s); validating", hook, exc)
    return None


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@event_source(data_class=CodeDeployLifecycleHookEvent)
def handler(event: CodeDeployLifecycleHookEvent, context: Any) -> dict[str, Any]:
    if os.getenv("GREENLIGHT_LOG_EVENT", "").lower() in ("1", "true", "yes"):
        logger.info("event", extra={"event": event.raw_event})
    return handle(event.raw_event, context, metrics_sink=metrics)
