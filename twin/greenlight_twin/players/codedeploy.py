"""Plays one deployment as CodeDeploy does (deployment controller CODE_DEPLOY), on the twin's stage.

A deployment is created with an AppSpec naming the hook functions, then its lifecycle runs:
BeforeInstall, Install (green's tasks start, a task set is created, its targets registered in the idle
target group), AfterInstall, AllowTestTraffic (the test listener forwards to green),
AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic (production forwards to green),
AfterAllowTraffic, then blue is terminated. CodeDeploy invokes each hook asynchronously with
`{DeploymentId, LifecycleEventHookExecutionId}` and waits for the hook's
PutLifecycleEventHookExecutionStatus; a Failed report, or none within the hook timeout, fails the
deployment and rolls it back: both listeners back to blue, green deregistered and stopped. A function
error is retried twice, as Lambda retries an asynchronous invocation. StopDeployment stops it too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import replace

from greenlight import lifecycle
from greenlight_twin.outcome import FAILED, STOPPED, SUCCEEDED, TIMED_OUT, DeploymentOutcome, HookOutcome
from greenlight_twin.players.base import POLL, Call, Halt, Player, register_task_definition
from greenlight_twin.progress import DEPLOYMENT, HOOK, INVOCATION, LOG, ROLLBACK, STEP

__all__ = ["CodeDeployPlayer"]

logger = logging.getLogger(__name__)

# Lambda retries a failed asynchronous invocation twice (after about 1 and 2 minutes); the twin sooner.
ASYNC_RETRY_DELAYS = (1.0, 2.0)
# After a hook reported, how long its invocation gets to return (its last log lines, its answer).
AFTER_REPORT_WAIT = 3.0


class CodeDeployPlayer(Player):
    """Plays a deployment as CodeDeploy does: lifecycle events, hooks that report, rollback on a failure."""

    controller = "CODE_DEPLOY"

    def stop_asked(self) -> bool | None:
        """Whether StopDeployment was called for this deployment (None: no)."""
        from greenlight_twin import aws as twin_aws

        return twin_aws.stop_requested(self.deployment_id)

    def run(self) -> DeploymentOutcome:
        from greenlight_cli.appspec.build import build_appspec
        from greenlight_twin import aws as twin_aws

        world, live = self.world, self.live
        assert world.application_name and world.deployment_group_name
        self.events = dict.fromkeys(twin_aws.ECS_LIFECYCLE_EVENTS, "Pending")
        self.task_sets: dict[str, twin_aws.EcsTaskSet] = {
            "Blue": twin_aws.EcsTaskSet(
                identifier=str(live.task_set_id),
                label="Blue",
                target_group=live.target_group,
                desired_count=len(live.side.tasks),
                status="PRIMARY",
                traffic_weight=100.0,
            )
        }
        self.green_task_set_arn: str | None = None
        self.task_definition = register_task_definition(self)
        appspec = build_appspec(
            self.task_definition,
            world.container_name,
            world.container_port,
            {hook: self.stage.hook_function_name(hook) for hook in self.hooks},
        )
        content = json.dumps(appspec)
        cd = self.stage.client("codedeploy")
        self.deployment_id = cd.create_deployment(
            applicationName=world.application_name,
            deploymentGroupName=world.deployment_group_name,
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
            },
            description=self.description or f"{live.version} -> {self.release.version}",
        )["deploymentId"]
        twin_aws.set_deployment_status(self.deployment_id, "InProgress")
        self.sync_target()
        tasks = self.release.tasks or len(live.side.tasks)
        self.emit(
            DEPLOYMENT,
            f"deployment {self.deployment_id} (CodeDeploy, {world.application_name}/{world.deployment_group_name}): "
            f"{live.version} -> {self.release.version}, {tasks} task(s); hooks: {', '.join(self.hooks) or 'none'}",
            deployment_id=self.deployment_id,
            appspec=appspec,
            spec=str(self.spec_path),
        )
        try:
            for step in twin_aws.ECS_LIFECYCLE_EVENTS:
                if self.stopping() or self.stop_asked() is not None:
                    raise Halt(step, "MANUAL_STOP", "the deployment was stopped (StopDeployment)", status=STOPPED)
                if step in lifecycle.CODEDEPLOY_HOOKS:
                    if step in self.hooks:
                        self.hook(step)
                    else:
                        twin_aws.set_lifecycle_event(self.deployment_id, step, SUCCEEDED)
                        self.events[step] = SUCCEEDED
                    continue
                twin_aws.set_lifecycle_event(self.deployment_id, step, "InProgress")
                self.emit(STEP, f"{step}")
                getattr(self, f"step_{step}")()
                twin_aws.set_lifecycle_event(self.deployment_id, step, SUCCEEDED)
                self.events[step] = SUCCEEDED
        except Halt as halt:
            return self.rollback(halt)
        except BaseException as exc:
            self.rollback(Halt("twin", "INTERNAL_ERROR", f"the twin failed: {type(exc).__name__}: {exc}"))
            raise
        return self.succeed()

    # state in moto

    def sync_target(self, status: str = "InProgress") -> None:
        from greenlight_twin import aws as twin_aws

        twin_aws.set_ecs_target(
            self.deployment_id,
            cluster=self.world.cluster_name,
            service=self.world.service_name,
            task_sets=list(self.task_sets.values()),
            status=status,
            lifecycle_events={k: v for k, v in self.events.items() if v != "Pending"},
        )

    # the steps CodeDeploy does itself

    def step_Install(self) -> None:  # noqa: N802 (named after the lifecycle event)
        from greenlight_twin import aws as twin_aws

        world = self.world
        green = self.start_green("Install")
        network = {
            "awsvpcConfiguration": {
                "subnets": list(world.subnet_ids),
                "securityGroups": [world.security_group_id],
                "assignPublicIp": "DISABLED",
            }
        }
        task_set = self.ecs.create_task_set(
            cluster=world.cluster_name,
            service=world.service_name,
            taskDefinition=self.task_definition,
            launchType="FARGATE",
            networkConfiguration=network,
            loadBalancers=[
                {
                    "targetGroupArn": self.live.idle_group_arn,
                    "containerName": world.container_name,
                    "containerPort": world.container_port,
                }
            ],
            scale={"unit": "PERCENT", "value": 100.0},
        )["taskSet"]
        self.green_task_set_arn = task_set["taskSetArn"]
        count = len(green.tasks)
        twin_aws.set_task_set_state(
            task_set["taskSetArn"],
            running_count=count,
            pending_count=0,
            computed_desired_count=count,
            stability_status="STEADY_STATE",
        )
        self.task_set_id = task_set["id"]
        self.task_sets["Green"] = twin_aws.EcsTaskSet(
            identifier=task_set["id"],
            label="Green",
            target_group=self.live.idle_group,
            desired_count=count,
            status="ACTIVE",
            traffic_weight=0.0,
        )
        self.register_green()
        self.events["Install"] = SUCCEEDED
        self.sync_target()

    def step_AllowTestTraffic(self) -> None:  # noqa: N802
        self.stage.set_weights("test", {self.live.idle_group: 1})
        self.elb.modify_listener(
            ListenerArn=self.world.test_listener_arn,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": self.live.idle_group_arn}],
        )
        self.traffic_changed("test")

    def step_AllowTraffic(self) -> None:  # noqa: N802
        from greenlight_twin import aws as twin_aws

        self.stage.set_weights("prod", {self.live.idle_group: 1})
        self.elb.modify_listener(
            ListenerArn=self.world.prod_listener_arn,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": self.live.idle_group_arn}],
        )
        self.task_sets["Green"] = replace(self.task_sets["Green"], traffic_weight=100.0, status="PRIMARY")
        self.task_sets["Blue"] = replace(self.task_sets["Blue"], traffic_weight=0.0, status="ACTIVE")
        twin_aws.update_ecs_task_set(self.deployment_id, "Green", traffic_weight=100.0, status="PRIMARY")
        twin_aws.update_ecs_task_set(self.deployment_id, "Blue", traffic_weight=0.0, status="ACTIVE")
        assert self.green_task_set_arn is not None
        self.ecs.update_service_primary_task_set(
            cluster=self.world.cluster_name, service=self.world.service_name, primaryTaskSet=self.green_task_set_arn
        )
        self.traffic_changed("prod")

    # hooks

    def hook(self, hook: str) -> None:
        from greenlight_twin import aws as twin_aws

        function = self.stage.hook_function_name(hook)
        execution_id = twin_aws.open_hook_execution(self.deployment_id, hook)
        self.events[hook] = "InProgress"
        event = {"DeploymentId": self.deployment_id, "LifecycleEventHookExecutionId": execution_id}
        self.emit(
            HOOK,
            f"{hook}: CodeDeploy invokes {function} and waits up to {self.hook_timeout:g} s for its report",
            hook=hook,
            function=function,
            event=event,
        )
        started = time.monotonic()
        deadline = started + self.hook_timeout
        process = self.stage.hook_function(hook)
        follower = self.follower(process)
        call = Call(process, event, self.invoke_timeout())
        invocations, retries, retry_at = 1, list(ASYNC_RETRY_DELAYS), None
        failures: list[str] = []
        status: str | None = None
        halted: str | None = None
        try:
            while True:
                status = twin_aws.reported_status(execution_id)
                if status is not None:
                    break
                if self.stopping() or self.stop_asked() is not None:
                    halted = STOPPED
                    break
                now = time.monotonic()
                if now >= deadline:
                    halted = TIMED_OUT
                    break
                if call.done.is_set() and not call.handled:
                    call.handled = True
                    failure = call.failure
                    if failure is not None:
                        failures.append(failure)
                        more = f"; Lambda retries it in {retries[0]:g} s (twin)" if retries else ""
                        self.emit(LOG, f"{hook}: the function failed without reporting: {failure}{more}", hook=hook)
                        if retries:
                            retry_at = now + retries.pop(0)
                if retry_at is not None and now >= retry_at:
                    retry_at = None
                    invocations += 1
                    process = self.stage.hook_function(hook)
                    call = Call(process, event, self.invoke_timeout())
                    self.emit(HOOK, f"{hook}: invocation {invocations} (asynchronous retry)", hook=hook)
                time.sleep(POLL)
            if status is not None:
                call.done.wait(AFTER_REPORT_WAIT)
            if not call.done.is_set():
                # Abandoned: a fresh emulator replaces it, so the next hook never queues behind it.
                self.stage.restart_hook_function(hook)
        finally:
            follower.stop()
        duration = time.monotonic() - started
        report = self.report(follower)
        checks, verdict, verdict_reason = report.checks, report.verdict, report.reason
        errors = report.errors + tuple(failures)
        payload = call.result.payload if call.result is not None and call.result.ok else None
        if isinstance(payload, Mapping) and payload.get("reason"):
            verdict_reason = str(payload["reason"])
        if status == SUCCEEDED:
            reason = verdict_reason or "the hook reported Succeeded"
        elif status == FAILED:
            reason = f"the hook reported Failed: {verdict_reason or (errors[-1] if errors else 'no reason logged')}"
        elif halted == TIMED_OUT:
            why = f" (last error: {errors[-1]})" if errors else ""
            reason = (
                f"no PutLifecycleEventHookExecutionStatus within the hook timeout of {self.hook_timeout:g} s"
                f" (CodeDeploy waits up to an hour){why}"
            )
            twin_aws.set_lifecycle_event(self.deployment_id, hook, FAILED)
        else:
            reason = "the deployment was stopped while the hook ran"
        final = status or halted or FAILED
        # The invocation as `--json` lists it: the answer is the function's return value (CodeDeploy ignores it),
        # the status what the hook reported with PutLifecycleEventHookExecutionStatus (or why there is none).
        self.emit(
            INVOCATION,
            f"{hook}: {invocations} invocation(s), reported {status or 'nothing'}",
            function=function,
            hook=hook,
            event=event,
            answer=payload if payload is not None else (failures[-1] if failures else None),
            status=final,
            invocations=invocations,
        )
        outcome = HookOutcome(
            hook=hook,
            function=function,
            status=final,
            reason=reason,
            duration=duration,
            invocations=invocations,
            checks=checks,
            verdict=verdict,
            errors=errors,
            log_path=str(process.log_path),
        )
        self.outcomes.append(outcome)
        self.events[hook] = SUCCEEDED if final == SUCCEEDED else FAILED
        self.emit(HOOK, f"{hook}: {final} after {duration:.1f} s - {reason}", hook=hook, status=final)
        if final == STOPPED:
            raise Halt(hook, "MANUAL_STOP", "the deployment was stopped (StopDeployment)", status=STOPPED)
        if final != SUCCEEDED:
            raise Halt(hook, "HOOK_EXECUTION_FAILURE", f"lifecycle event {hook} failed: {reason}")

    # endings

    def succeed(self) -> DeploymentOutcome:
        from greenlight_twin import aws as twin_aws

        old, green = self.live, self.green
        assert green is not None and self.green_task_set_arn is not None
        twin_aws.set_deployment_status(self.deployment_id, SUCCEEDED)
        self.sync_target(SUCCEEDED)
        # CodeDeploy terminates the original task set after terminationWaitTimeInMinutes; the twin at once.
        self.emit(STEP, f"terminating blue's task set ({old.version})")
        if old.task_set_arn:
            self.ecs.delete_task_set(
                cluster=self.world.cluster_name, service=self.world.service_name, taskSet=old.task_set_arn, force=True
            )
        self.remove_side(old.side, old.target_group, old.target_group_arn, "blue")
        self.stage.promote(
            old.promoted(
                green,
                self.task_definition,
                task_set_id=self.task_sets["Green"].identifier,
                task_set_arn=self.green_task_set_arn,
            )
        )
        return self.finish(SUCCEEDED, promoted=True, reason="every lifecycle event succeeded")

    def rollback(self, halt: Halt) -> DeploymentOutcome:
        from greenlight_twin import aws as twin_aws

        live = self.live
        self.emit(ROLLBACK, f"rolling back ({halt.step}): {halt.message}", step=halt.step)
        for listener, arn in (("prod", self.world.prod_listener_arn), ("test", self.world.test_listener_arn)):
            if self.stage.weights(listener) != {live.target_group: 1}:
                self.stage.set_weights(listener, {live.target_group: 1})
                self.elb.modify_listener(
                    ListenerArn=arn, DefaultActions=[{"Type": "forward", "TargetGroupArn": live.target_group_arn}]
                )
                self.traffic_changed(listener)
        if "Green" in self.task_sets:
            self.task_sets["Green"] = replace(self.task_sets["Green"], traffic_weight=0.0, status="ACTIVE")
            self.task_sets["Blue"] = replace(self.task_sets["Blue"], traffic_weight=100.0, status="PRIMARY")
        if self.green_task_set_arn is not None:
            try:
                self.ecs.update_service_primary_task_set(
                    cluster=self.world.cluster_name,
                    service=self.world.service_name,
                    primaryTaskSet=str(live.task_set_arn),
                )
                self.ecs.delete_task_set(
                    cluster=self.world.cluster_name,
                    service=self.world.service_name,
                    taskSet=self.green_task_set_arn,
                    force=True,
                )
            except Exception as exc:  # green's processes must stop all the same
                logger.warning("twin: removing green's task set from moto failed: %s", exc)
        if self.green is not None:
            self.remove_green()
        for name, status in self.events.items():
            if status in ("Pending", "InProgress"):
                self.events[name] = "Skipped" if status == "Pending" else FAILED
        try:
            self.sync_target(FAILED)
            twin_aws.set_deployment_status(
                self.deployment_id, halt.status, error_code=halt.code, error_message=halt.message
            )
        except Exception as exc:  # the outcome must still be told
            logger.warning("twin: recording the deployment's end in moto failed: %s", exc)
        return self.finish(
            halt.status, promoted=False, reason=halt.message, failed_step=halt.step, error_code=halt.code
        )
