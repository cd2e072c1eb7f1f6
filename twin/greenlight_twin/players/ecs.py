"""Plays one service deployment as ECS native blue/green does (deployment controller ECS), on the twin's stage.

A service revision and a service deployment are created, then the stages run: RECONCILE_SERVICE,
PRE_SCALE_UP, SCALE_UP (green's tasks), POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, then
for each traffic step of the strategy (BLUE_GREEN: one step to 100%; LINEAR: stepPercent at a time;
CANARY: canaryPercent, then the rest) PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT with
the step's bake time between steps, then POST_PRODUCTION_TRAFFIC_SHIFT, and blue is stopped.

ECS invokes the hook function with the stage's event (executionId, lifecycleStage, resourceArn,
executionDetails, and hookDetails only when there are some) and reads the answer: IN_PROGRESS is invoked
again after callBackDelay with the returned hookDetails merged in; FAILED, a function error, an answer
without a valid hookStatus or a stage longer than the hook timeout rolls back: traffic returns to blue
and PRODUCTION_TRAFFIC_SHIFT runs again with green at weight 0.

The weight maps are filled only at the stages that shift traffic (ECS Developer Guide, "Lifecycle
payloads": https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html):
TEST_TRAFFIC_SHIFT the test map (green 100, blue 0); PRE_PRODUCTION_TRAFFIC_SHIFT the production map as
it is before the step; PRODUCTION_TRAFFIC_SHIFT the step's production weights (green 0, blue 100 during
a rollback, targetServiceRevisionArn still green); every other stage `{}` for both.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from greenlight import lifecycle
from greenlight_twin.outcome import FAILED, STOPPED, TIMED_OUT, DeploymentOutcome, HookOutcome
from greenlight_twin.players.base import POLL, Call, Halt, Player, register_task_definition
from greenlight_twin.progress import DEPLOYMENT, HOOK, INVOCATION, ROLLBACK, STEP

__all__ = ["EcsPlayer", "pause_event", "weighted"]

logger = logging.getLogger(__name__)

_ECS_SUCCEEDED, _ECS_FAILED, _ECS_IN_PROGRESS = "SUCCEEDED", "FAILED", "IN_PROGRESS"
DEFAULT_CALLBACK_DELAY = 30.0
# The stages before production traffic moves; PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT recur per step.
_BEFORE_PRODUCTION = lifecycle.ECS_STAGES[: lifecycle.ECS_STAGES.index("PRE_PRODUCTION_TRAFFIC_SHIFT")]


class EcsPlayer(Player):
    """Plays a service deployment as ECS native blue/green does: stages, hooks that answer, rollback by weights."""

    controller = "ECS"

    def run(self) -> DeploymentOutcome:
        from greenlight_twin import aws as twin_aws

        world, live = self.world, self.live
        assert world.prod_rule_arn and world.test_rule_arn and live.revision_arn
        self.task_definition = register_task_definition(self)
        balancers = [
            {
                "targetGroupArn": live.target_group_arn,
                "containerName": world.container_name,
                "containerPort": world.container_port,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": live.idle_group_arn,
                    "productionListenerRule": world.prod_rule_arn,
                    "testListenerRule": world.test_rule_arn,
                    "roleArn": f"arn:aws:iam::{world.account_id}:role/ecsInfrastructureRoleForLoadBalancers",
                },
            }
        ]
        service_connect = self.stage.service_connect
        # A Service Connect service in the twin is reached through its client alias only (no load balancer).
        self.revision = twin_aws.register_service_revision(
            world.service_arn,
            task_definition=self.task_definition,
            load_balancers=[] if service_connect else balancers,
            resolved_load_balancers=(
                []
                if service_connect
                else [{"targetGroupArn": live.idle_group_arn, "productionListenerRule": world.prod_rule_arn}]
            ),
            service_connect_configuration=service_connect,
        )
        self.blue_revision = live.revision_arn
        self.tasks = self.release.tasks or len(live.side.tasks)
        self.running = 0
        self.rollout = self.release.rollout.checked()
        # What each revision gets on each listener, in percent (the listener rules follow these).
        self.test_weights: dict[str, float] = {}
        self.prod_weights: dict[str, float] = {self.blue_revision: 100.0}
        self.deployment_id = twin_aws.start_service_deployment(
            world.service_arn,
            target_revision=self.summary(self.revision),
            source_revisions=[self.summary(self.blue_revision)],
            status="IN_PROGRESS",
            lifecycle_stage="RECONCILE_SERVICE",
            deployment_configuration=self.rollout.configuration(),
        )
        steps = self.rollout.steps()
        self.emit(
            DEPLOYMENT,
            f"service deployment {self.deployment_id.rsplit('/', 1)[-1]} (ECS native {self.rollout.strategy}, "
            f"service {world.service_name}): {live.version} -> {self.release.version}, {self.tasks} task(s); "
            f"production steps {', '.join(f'{s:g}%' for s in steps)}; hook stages: {', '.join(self.hooks) or 'none'}",
            deployment_id=self.deployment_id,
            revision=self.revision,
            spec=str(self.spec_path),
            strategy=self.rollout.strategy,
            steps=steps,
        )
        try:
            for stage in _BEFORE_PRODUCTION:
                self.check_stop(stage)
                # What ECS does between the stages: scale green up before POST_SCALE_UP, move test traffic.
                if stage == "POST_SCALE_UP":
                    self.scale_up()
                self.set_stage(stage)
                if stage == "TEST_TRAFFIC_SHIFT":
                    self.test_weights = {self.blue_revision: 0.0, self.revision: 100.0}
                    self.rules()
                self.run_hook(stage, test=self.green_map(self.test_weights) if stage == "TEST_TRAFFIC_SHIFT" else {})
            for number, green in enumerate(steps, 1):
                where = f" (step {number} of {len(steps)}: {green:g}% to green)" if len(steps) > 1 else ""
                self.check_stop("PRE_PRODUCTION_TRAFFIC_SHIFT")
                self.set_stage("PRE_PRODUCTION_TRAFFIC_SHIFT", note=where, step=number)
                self.run_hook("PRE_PRODUCTION_TRAFFIC_SHIFT", production=self.green_map(self.prod_weights), step=number)
                self.check_stop("PRODUCTION_TRAFFIC_SHIFT")
                self.set_stage("PRODUCTION_TRAFFIC_SHIFT", note=where, step=number)
                self.prod_weights = {self.blue_revision: 100.0 - green, self.revision: green}
                self.rules()
                self.run_hook("PRODUCTION_TRAFFIC_SHIFT", production=self.green_map(self.prod_weights), step=number)
                if number < len(steps) and self.rollout.bake:
                    self.bake(self.rollout.bake, number)
            self.check_stop("POST_PRODUCTION_TRAFFIC_SHIFT")
            self.set_stage("POST_PRODUCTION_TRAFFIC_SHIFT")
            self.run_hook("POST_PRODUCTION_TRAFFIC_SHIFT")
        except Halt as halt:
            return self.rollback(halt)
        except BaseException as exc:
            self.rollback(Halt("twin", "INTERNAL_ERROR", f"the twin failed: {type(exc).__name__}: {exc}"))
            raise
        return self.succeed()

    def check_stop(self, stage: str) -> None:
        if self.stopping():
            raise Halt(stage, "STOPPED", "the deployment was stopped", status="STOPPED")

    def run_hook(
        self,
        stage: str,
        *,
        test: Mapping[str, float] | None = None,
        production: Mapping[str, float] | None = None,
        step: int | None = None,
    ) -> None:
        """Invokes the hook at `stage` (if the spec has one) with these weight maps; Halt when it does not pass."""
        if stage not in self.hooks:
            return
        if stage == self.stage.pause_stage:
            outcome = self.pause_hook(stage, step=step)
        else:
            outcome = self.stage_hook(stage, test=test or {}, production=production or {}, step=step)
        if not outcome.passed:
            stopped = outcome.status == STOPPED
            at = f"{stage} (step {step})" if step and len(self.rollout.steps()) > 1 else stage
            raise Halt(
                stage,
                "STOPPED" if stopped else "HOOK_FAILED",
                f"lifecycle hook at {at} {outcome.status}: {outcome.reason}",
                status="STOPPED" if stopped else FAILED,
            )

    def green_map(self, weights: Mapping[str, float]) -> dict[str, float]:
        """A weight map of the event: green (the target revision) and blue, as the listener has them now."""
        green = float(weights.get(self.revision, 0.0))
        return {self.revision: green, self.blue_revision: 100.0 - green}

    def bake(self, seconds: float, step: int) -> None:
        """The step's bake time: traffic stays as it is; a stop ends it (and the deployment)."""
        self.emit(STEP, f"bake time after step {step}: {seconds:g} s (AWS: minutes)", stage="BAKE", step=step)
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            self.check_stop("PRODUCTION_TRAFFIC_SHIFT")
            time.sleep(POLL)

    # state in moto

    def summary(self, arn: str) -> Any:
        from greenlight_twin import aws as twin_aws

        if arn == self.revision:
            return twin_aws.RevisionSummary(
                arn,
                requested_task_count=self.tasks,
                running_task_count=self.running,
                requested_test_traffic_weight=self.test_weights.get(arn, 0.0),
                requested_production_traffic_weight=self.prod_weights.get(arn, 0.0),
            )
        count = len(self.live.side.tasks)
        return twin_aws.RevisionSummary(
            arn,
            requested_task_count=count,
            running_task_count=count if self.live.side.running else 0,
            requested_test_traffic_weight=self.test_weights.get(arn, 100.0),
            requested_production_traffic_weight=self.prod_weights.get(arn, 100.0),
        )

    def hook_details_running(self, function: str, hook_id: str, *, started_in: float | None) -> None:
        """DescribeServiceDeployments' `lifecycleHookDetails` while a hook runs (None: no hook running).

        The hook's timeout is the twin's; its action ROLLBACK, the default of a hook's `timeoutConfiguration`.
        """
        from datetime import timedelta

        from moto.core.utils import utcnow

        from greenlight_twin import aws as twin_aws

        details: list[dict[str, Any]] = []
        if started_in is not None:
            arn = f"arn:aws:lambda:{self.world.region}:{self.world.account_id}:function:{function}"
            expires = utcnow() + timedelta(seconds=started_in)
            details = [
                {
                    "hookId": hook_id,
                    "targetType": "AWS_LAMBDA",
                    "targetArn": arn,
                    "status": "IN_PROGRESS",
                    "expiresAt": expires,
                    "timeoutAction": "ROLLBACK",
                }
            ]
        try:
            twin_aws.update_service_deployment(self.deployment_id, lifecycle_hook_details=details)
        except Exception as exc:  # the hook still runs; only its timeout is missing from the API's answer
            logger.warning("twin: recording the running hook in moto failed: %s", exc)

    def set_stage(
        self,
        stage: str,
        status: str | None = None,
        *,
        note: str = "",
        step: int | None = None,
        rollback: dict[str, Any] | None = None,
    ) -> None:
        from greenlight_twin import aws as twin_aws
        from greenlight_twin.aws._util import enum

        # PRE_PRODUCTION_TRAFFIC_SHIFT is a hook stage the API's lifecycleStage does not list.
        known = stage in enum("ecs", "ServiceDeploymentLifecycleStage")
        twin_aws.update_service_deployment(
            self.deployment_id,
            status=status,
            lifecycle_stage=stage if known else None,
            target_revision=self.summary(self.revision),
            source_revisions=[self.summary(self.blue_revision)],
            rollback=rollback,
        )
        if status is None:
            self.emit(STEP, f"{stage}{note}", stage=stage, step=step)

    def rules(self) -> None:
        """The listener rules (moto) and listeners (load balancer) forward by the weights of the maps."""
        live = self.live
        for listener, rule, weights in (
            ("prod", self.world.prod_rule_arn, self.prod_weights),
            ("test", self.world.test_rule_arn, self.test_weights),
        ):
            green = int(weights.get(self.revision, 0.0))
            blue = 100 - green
            assert rule is not None
            if self.stage.weights(listener) != {live.target_group: blue, live.idle_group: green}:
                self.stage.set_weights(listener, {live.target_group: blue, live.idle_group: green})
                action = weighted(live.target_group_arn, blue, live.idle_group_arn, green)
                if self.world.lb_type == "network":  # ECS moves an NLB listener's own default action
                    self.elb.modify_listener(ListenerArn=rule, DefaultActions=[action])
                else:
                    self.elb.modify_rule(RuleArn=rule, Actions=[action])
                self.traffic_changed(listener)

    # the stages' own work

    def scale_up(self) -> None:
        self.set_stage("SCALE_UP")
        green = self.start_green("SCALE_UP")
        self.register_green()
        self.running = len(green.tasks)
        self.prod_weights = {self.blue_revision: 100.0, self.revision: 0.0}

    # hooks

    def stage_hook(
        self,
        stage: str,
        *,
        test: Mapping[str, float],
        production: Mapping[str, float],
        rollback: bool = False,
        step: int | None = None,
    ) -> HookOutcome:
        function = self.stage.hook_function_name(stage)
        execution_id = str(uuid.uuid4())
        # Runtime hookDetails persist between the invocations of one hook; none is configured in the twin.
        hook_details: dict[str, Any] = {}
        started = time.monotonic()
        deadline = started + self.hook_timeout
        self.emit(
            HOOK,
            f"{stage}{' (rollback)' if rollback else ''}: ECS invokes {function} "
            f"(event weights: test {_pct(test, self.revision)}, production {_pct(production, self.revision)} to green)",
            hook=stage,
            function=function,
            step=step,
        )
        process = self.stage.hook_function(stage)
        follower = self.follower(process)
        self.hook_details_running(function, execution_id, started_in=self.hook_timeout)
        rounds, answer, status, reason = 0, None, None, ""
        errors: list[str] = []
        try:
            while status is None:
                rounds += 1
                event: dict[str, Any] = {
                    "executionId": execution_id,
                    "lifecycleStage": stage,
                    "resourceArn": self.deployment_id,
                    "executionDetails": {
                        "serviceArn": self.world.service_arn,
                        "targetServiceRevisionArn": self.revision,
                        "testTrafficWeights": dict(test),
                        "productionTrafficWeights": dict(production),
                    },
                }
                if hook_details:  # absent when none is configured and none was returned yet
                    event["hookDetails"] = dict(hook_details)
                process = self.stage.hook_function(stage)
                call = Call(process, event, self.invoke_timeout())
                while not call.done.wait(POLL):
                    if self.stopping() or time.monotonic() >= deadline:
                        break
                self.invocation(function, stage, event, call, rollback=rollback, step=step)
                if not call.done.is_set():
                    self.stage.restart_hook_function(stage)
                    status = STOPPED if self.stopping() else TIMED_OUT
                    reason = (
                        "the deployment was stopped while the hook ran"
                        if status == STOPPED
                        else f"the hook did not finish within the hook timeout of {self.hook_timeout:g} s"
                    )
                    break
                failure = call.failure
                if failure is not None:
                    errors.append(failure)
                    status, reason = _ECS_FAILED, f"the function failed: {failure}"
                    break
                assert call.result is not None
                answer = call.result.payload
                hook_status = answer.get("hookStatus") if isinstance(answer, Mapping) else None
                if hook_status not in (_ECS_SUCCEEDED, _ECS_FAILED, _ECS_IN_PROGRESS):
                    status = _ECS_FAILED
                    reason = f"the function answered no valid hookStatus: {json.dumps(answer)[:300]}"
                    break
                assert isinstance(answer, Mapping)
                returned = answer.get("hookDetails")
                if isinstance(returned, Mapping):
                    hook_details.update(returned)
                if hook_status != _ECS_IN_PROGRESS:
                    status = str(hook_status)
                    reason = _ecs_reason(answer) or f"the hook answered {hook_status}"
                    break
                delay = answer.get("callBackDelay", DEFAULT_CALLBACK_DELAY)
                delay = float(delay) if isinstance(delay, int | float) and not isinstance(delay, bool) else 30.0
                self.emit(HOOK, f"{stage}: IN_PROGRESS (round {rounds}); ECS calls again in {delay:g} s", hook=stage)
                wake = time.monotonic() + delay
                while time.monotonic() < min(wake, deadline) and not self.stopping():
                    time.sleep(POLL)
                if self.stopping():
                    status, reason = STOPPED, "the deployment was stopped while the hook ran"
                elif time.monotonic() >= deadline:
                    status = TIMED_OUT
                    reason = f"the hook was still IN_PROGRESS at the hook timeout of {self.hook_timeout:g} s"
        finally:
            follower.stop()
            self.hook_details_running(function, execution_id, started_in=None)
        duration = time.monotonic() - started
        report = self.report(follower)
        outcome = HookOutcome(
            hook=stage,
            function=function,
            status=status,
            reason=reason or report.reason or "",
            duration=duration,
            invocations=rounds,
            checks=report.checks,
            verdict=report.verdict,
            errors=report.errors + tuple(errors),
            log_path=str(process.log_path),
            rollback=rollback,
        )
        self.outcomes.append(outcome)
        self.emit(HOOK, f"{stage}: {status} after {duration:.1f} s - {outcome.reason}", hook=stage, status=status)
        return outcome

    def pause_hook(self, stage: str, *, step: int | None = None) -> HookOutcome:
        """A PAUSE lifecycle hook at `stage`: the deployment waits for ContinueServiceDeployment or the hook's timeout.

        As ECS does (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html): the
        hook is recorded AWAITING_ACTION in `lifecycleHookDetails` with `expiresAt` = now + the hook timeout and
        `timeoutAction` ROLLBACK, the "ECS Hook State Change" event (HOOK_AWAITING_ACTION) goes to the rule's
        target (the template's PauseHook, which starts the durable worker), and the deployment goes on with
        CONTINUE, rolls back with ROLLBACK, or takes the timeout action when `expiresAt` passes.
        """
        from greenlight_twin import aws as twin_aws

        function = self.stage.pause_function_name()
        started = time.monotonic()
        deadline = started + self.hook_timeout
        hook_id = twin_aws.pause_at_hook(self.deployment_id, timeout_seconds=self.hook_timeout)
        hook = next(
            h
            for h in self.ecs.describe_service_deployments(serviceDeploymentArns=[self.deployment_id])[
                "serviceDeployments"
            ][0]["lifecycleHookDetails"]
            if h["hookId"] == hook_id
        )
        event = pause_event(self.world, self.deployment_id, stage, hook)
        self.emit(
            HOOK,
            f"{stage}: PAUSE hook awaiting action until the hook timeout ({self.hook_timeout:g} s); "
            f"EventBridge delivers ECS Hook State Change to {function}",
            hook=stage,
            function=function,
            step=step,
        )
        process = self.stage.pause_function()
        follower = self.follower(process)
        call = Call(process, event, self.invoke_timeout())
        recorded = False
        action: str | None = None
        status, reason = None, ""
        try:
            while action is None:
                if call.done.is_set() and not recorded:
                    self.delivery(function, stage, event, call, step=step)
                    recorded = True
                if self.stopping():
                    status, reason = STOPPED, "the deployment was stopped while the PAUSE hook awaited action"
                    break
                if time.monotonic() >= deadline:
                    action = twin_aws.expire_hook(self.deployment_id, hook_id)
                    status = TIMED_OUT
                    reason = (
                        f"no ContinueServiceDeployment within the hook timeout of {self.hook_timeout:g} s: {action}"
                    )
                    break
                time.sleep(POLL)
                action = twin_aws.hook_action(self.deployment_id, hook_id)
        finally:
            follower.stop()
        if not recorded:
            self.delivery(function, stage, event, call, step=step)
        if status is None:
            status = _ECS_SUCCEEDED if action == "CONTINUE" else _ECS_FAILED
            reason = f"ContinueServiceDeployment {action}"
        duration = time.monotonic() - started
        outcome = HookOutcome(
            hook=stage,
            function=function,
            status=status,
            reason=reason,
            duration=duration,
            invocations=1,
            errors=(call.failure,) if call.failure else (),
            log_path=str(process.log_path),
        )
        self.outcomes.append(outcome)
        self.emit(HOOK, f"{stage}: PAUSE hook {status} after {duration:.1f} s - {reason}", hook=stage, status=status)
        return outcome

    def delivery(self, function: str, stage: str, event: Mapping[str, Any], call: Call, *, step: int | None) -> None:
        """Records the PAUSE event's delivery to its target, for `--json`: DELIVERED (the target's answer is only
        logged, as EventBridge does), FUNCTION_ERROR or NO_ANSWER."""
        status = "NO_ANSWER" if not call.done.is_set() else "FUNCTION_ERROR" if call.failure else "DELIVERED"
        answer = call.failure if call.failure else call.result.payload if call.result is not None else None
        message = f"{stage}: PAUSE event delivered to {function}: {status}"
        self.record(message, function, stage, event, answer, status, step=step)

    def invocation(
        self, function: str, stage: str, event: Mapping[str, Any], call: Call, *, rollback: bool, step: int | None
    ) -> None:
        """Records one invocation: the event sent, and the answer (or why there is none), for `--json`."""
        answer: Any = None
        if not call.done.is_set():
            status = "NO_ANSWER"
        elif call.failure is not None:
            status, answer = "FUNCTION_ERROR", call.failure
        else:
            assert call.result is not None
            answer = call.result.payload
            found = answer.get("hookStatus") if isinstance(answer, Mapping) else None
            status = str(found) if found in (_ECS_SUCCEEDED, _ECS_FAILED, _ECS_IN_PROGRESS) else "INVALID_ANSWER"
        self.record(f"{stage}: invocation answered {status}", function, stage, event, answer, status, rollback, step)

    def record(
        self,
        message: str,
        function: str,
        stage: str,
        event: Mapping[str, Any],
        answer: Any,
        status: str,
        rollback: bool = False,
        step: int | None = None,
    ) -> None:
        """One entry of `--json`'s invocations: what was sent to `function` at `stage`, and what came of it."""
        self.emit(
            INVOCATION,
            message,
            function=function,
            hook=stage,
            event=dict(event),
            answer=answer,
            status=status,
            rollback=rollback,
            step=step,
        )

    # endings

    def succeed(self) -> DeploymentOutcome:

        old, green = self.live, self.green
        assert green is not None
        self.set_stage("BAKE_TIME")
        # ECS keeps blue for bakeTimeInMinutes; the twin ends it at once.
        self.set_stage("CLEAN_UP")
        self.remove_side(old.side, old.target_group, old.target_group_arn, "blue")
        self.set_stage("CLEAN_UP", status="SUCCESSFUL")
        with contextlib.suppress(Exception):  # cosmetic (DescribeServices' taskDefinition); moto may refuse
            self.ecs.update_service(
                cluster=self.world.cluster_name, service=self.world.service_name, taskDefinition=self.task_definition
            )
        self.stage.promote(old.promoted(green, self.task_definition, revision_arn=self.revision))
        return self.finish("SUCCESSFUL", promoted=True, reason="every lifecycle stage succeeded")

    def rollback(self, halt: Halt) -> DeploymentOutcome:
        self.emit(ROLLBACK, f"rolling back ({halt.step}): {halt.message}", step=halt.step)
        final = "ROLLBACK_SUCCESSFUL"
        try:
            self.set_stage(
                halt.step if halt.step in lifecycle.ECS_STAGES else "RECONCILE_SERVICE",
                "ROLLBACK_IN_PROGRESS",
                rollback={"reason": halt.message, "serviceRevisionArn": self.blue_revision},
            )
        except Exception as exc:  # the rollback itself must go on
            logger.warning("twin: recording the rollback in moto failed: %s", exc)
        # Traffic goes back to blue on both listeners; ECS runs PRODUCTION_TRAFFIC_SHIFT again with the target
        # revision (still green) at weight 0 and blue at 100.
        self.test_weights = {self.blue_revision: 100.0, self.revision: 0.0}
        self.prod_weights = {self.blue_revision: 100.0, self.revision: 0.0}
        self.rules()
        stage = "PRODUCTION_TRAFFIC_SHIFT"
        if stage in self.hooks and self.green is not None and halt.status != "STOPPED":
            with contextlib.suppress(Exception):  # what DescribeServiceDeployments shows while the hook runs
                self.set_stage(stage, "ROLLBACK_IN_PROGRESS")
            outcome = self.stage_hook(stage, test={}, production=self.green_map(self.prod_weights), rollback=True)
            if not outcome.passed:
                final = "ROLLBACK_FAILED"
        if self.green is not None:
            self.remove_green()
            self.running = 0
        if halt.status == "STOPPED":
            final = "STOPPED"
        try:
            self.set_stage("CLEAN_UP", final)
            from greenlight_twin import aws as twin_aws

            twin_aws.update_service_deployment(self.deployment_id, status_reason=halt.message)
        except Exception as exc:
            logger.warning("twin: recording the rollback's end in moto failed: %s", exc)
        return self.finish(final, promoted=False, reason=halt.message, failed_step=halt.step, error_code=halt.code)


def pause_event(world: Any, deployment_arn: str, stage: str, hook: Mapping[str, Any]) -> dict[str, Any]:
    """The EventBridge event of a PAUSE hook awaiting action.

    The Developer Guide documents its detail-type ("ECS Hook State Change") and event name
    (HOOK_AWAITING_ACTION) and no more; the twin names the service deployment in `resources`, as events of
    AWS services name their resources, and repeats the hook as DescribeServiceDeployments shows it
    (botocore ecs model DeploymentLifecycleHookDetail; expiresAt in ISO 8601, as EventBridge writes times).
    """
    from datetime import UTC, datetime

    expires = hook.get("expiresAt")
    detail: dict[str, Any] = {
        "eventName": "HOOK_AWAITING_ACTION",
        "serviceDeploymentArn": deployment_arn,
        "lifecycleStage": stage,
        **{k: v for k, v in hook.items() if k != "expiresAt"},
    }
    if isinstance(expires, datetime):
        detail["expiresAt"] = expires.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "ECS Hook State Change",
        "source": "aws.ecs",
        "account": world.account_id,
        "time": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "region": world.region,
        "resources": [deployment_arn],
        "detail": detail,
    }


def _pct(weights: Mapping[str, float], revision: str) -> str:
    return f"{weights[revision]:g}%" if revision in weights else "-"


def _ecs_reason(answer: Mapping[str, Any]) -> str | None:
    details = answer.get("hookDetails")
    state = details.get("greenlight") if isinstance(details, Mapping) else None
    if isinstance(state, Mapping) and state.get("reason"):
        return str(state["reason"])
    return None


def weighted(first_tg: str, first: int, second_tg: str, second: int) -> dict[str, Any]:
    """An ELBv2 forward action with two weighted target groups."""
    return {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": first_tg, "Weight": first},
                {"TargetGroupArn": second_tg, "Weight": second},
            ]
        },
    }
