"""Plays one blue/green deployment on the twin, as CodeDeploy or ECS would, and says how it ended.

CodeDeploy (deployment controller CODE_DEPLOY): a deployment is created with an AppSpec naming the
hook functions, then its lifecycle runs: BeforeInstall, Install (green's tasks start, a task set is
created, its targets registered in the idle target group), AfterInstall, AllowTestTraffic (the test
listener forwards to green), AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic (production
forwards to green), AfterAllowTraffic, then blue is terminated. CodeDeploy invokes each hook
asynchronously with `{DeploymentId, LifecycleEventHookExecutionId}` and waits for the hook's
PutLifecycleEventHookExecutionStatus; a Failed report, or none within the hook timeout, fails the
deployment and rolls it back: both listeners back to blue, green deregistered and stopped. A function
error is retried twice, as Lambda retries an asynchronous invocation. StopDeployment stops it too.

ECS native blue/green (deployment controller ECS): a service revision and a service deployment are
created, then the stages run: RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP (green's tasks), POST_SCALE_UP,
TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT,
POST_PRODUCTION_TRAFFIC_SHIFT, then blue is stopped. ECS invokes the hook function with the stage's
event (executionId, lifecycleStage, resourceArn, executionDetails with both weight maps, hookDetails)
and reads the answer: IN_PROGRESS is invoked again after callBackDelay with the returned hookDetails
merged in; FAILED, a function error, an answer without a valid hookStatus or a stage longer than the
hook timeout rolls back: the traffic-shift stages run again with green at weight 0.

Which hooks (stages) invoke the function: those the spec has checks for, unless given.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenlight import lifecycle
from greenlight_twin.lambdas import INVOKE_WAIT_MARGIN, InvocationResult, LambdaProcess, lambda_environment
from greenlight_twin.progress import (
    DEPLOYMENT,
    HOOK,
    LOG,
    OUTCOME,
    ROLLBACK,
    STEP,
    TASK,
    TRAFFIC,
    Event,
    LogFollower,
    ProgressFn,
    Recorder,
)
from greenlight_twin.services import ServiceError, ServiceSide

if TYPE_CHECKING:
    from greenlight_twin.controller import Twin

__all__ = [
    "CheckOutcome",
    "DeploymentOutcome",
    "GreenRelease",
    "HookOutcome",
    "play",
]

logger = logging.getLogger(__name__)

# Lambda retries a failed asynchronous invocation twice (after about 1 and 2 minutes); the twin sooner.
ASYNC_RETRY_DELAYS = (1.0, 2.0)
# After a hook reported, how long its invocation gets to return (its last log lines, its answer).
AFTER_REPORT_WAIT = 3.0
_POLL = 0.05

SUCCEEDED, FAILED, TIMED_OUT, STOPPED = "Succeeded", "Failed", "TimedOut", "Stopped"


# --- what a deployment came to --------------------------------------------------------------------------


@dataclass(frozen=True)
class GreenRelease:
    """What a deployment brings: green's version, its tasks, and their settings (fault switches)."""

    version: str
    env: Mapping[str, str] = field(default_factory=dict)
    task_env: tuple[Mapping[str, str], ...] = ()
    tasks: int | None = None  # None: as many as blue


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result as the hook function logged it."""

    name: str
    kind: str
    status: str
    reason: str
    counts: Mapping[str, int] = field(default_factory=dict)
    measurements: tuple[Mapping[str, Any], ...] = ()
    dry_run: bool = False

    @classmethod
    def from_log(cls, check: Mapping[str, Any]) -> CheckOutcome:
        return cls(
            name=str(check.get("name", "?")),
            kind=str(check.get("kind", "?")),
            status="PAUSED" if check.get("paused") else str(check.get("status", "?")),
            reason=str(check.get("reason", "")),
            counts=dict(check.get("counts") or {}),
            measurements=tuple(dict(m) for m in check.get("measurements") or ()),
            dry_run=bool(check.get("dry_run")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "counts": dict(self.counts),
            "measurements": [dict(m) for m in self.measurements],
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class HookOutcome:
    """One hook (CodeDeploy) or stage (ECS): what the function answered or reported, and its checks.

    `status`: CodeDeploy Succeeded / Failed / TimedOut (no report within the hook timeout) / Stopped;
    ECS SUCCEEDED / FAILED / TimedOut / Stopped.
    """

    hook: str
    function: str
    status: str
    reason: str
    duration: float
    invocations: int = 1
    checks: tuple[CheckOutcome, ...] = ()
    verdict: str | None = None
    errors: tuple[str, ...] = ()
    log_path: str | None = None
    rollback: bool = False  # an ECS traffic-shift stage run again while rolling back

    @property
    def passed(self) -> bool:
        return self.status in (SUCCEEDED, "SUCCEEDED")

    def check(self, name: str) -> CheckOutcome:
        for check in self.checks:
            if check.name == name:
                return check
        known = ", ".join(c.name for c in self.checks) or "none"
        raise KeyError(f"hook {self.hook} ran no check {name!r}; it ran: {known}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "function": self.function,
            "status": self.status,
            "reason": self.reason,
            "duration": round(self.duration, 3),
            "invocations": self.invocations,
            "verdict": self.verdict,
            "checks": [c.to_dict() for c in self.checks],
            "errors": list(self.errors),
            "log_path": self.log_path,
            "rollback": self.rollback,
        }


@dataclass(frozen=True)
class DeploymentOutcome:
    """How a deployment ended. `promoted`: green serves production now; `rolled_back`: blue still does."""

    controller: str
    deployment_id: str
    version: str
    from_version: str
    status: str  # CodeDeploy: Succeeded/Failed/Stopped; ECS: SUCCESSFUL/ROLLBACK_SUCCESSFUL/ROLLBACK_FAILED/...
    promoted: bool
    rolled_back: bool
    reason: str
    failed_step: str | None = None
    error_code: str | None = None
    hooks: tuple[HookOutcome, ...] = ()
    duration: float = 0.0
    green_targets: tuple[str, ...] = ()  # "ip:port" of each green task, in task order
    events: tuple[Event, ...] = ()

    def hook(self, name: str) -> HookOutcome:
        """The hook (or stage) outcome of `name`; for an ECS stage run twice, the first run."""
        for hook in self.hooks:
            if hook.hook == name:
                return hook
        other = lifecycle.equivalent(name)
        for hook in self.hooks:
            if hook.hook == other:
                return hook
        raise KeyError(f"deployment {self.deployment_id} ran no hook {name!r}; it ran: {self._hook_names()}")

    def _hook_names(self) -> str:
        return ", ".join(h.hook for h in self.hooks) or "none"

    def check(self, name: str) -> CheckOutcome:
        """A check's outcome (from the last hook that ran it)."""
        for hook in reversed(self.hooks):
            for check in hook.checks:
                if check.name == name:
                    return check
        ran = sorted({c.name for h in self.hooks for c in h.checks})
        raise KeyError(f"deployment {self.deployment_id} ran no check {name!r}; it ran: {', '.join(ran) or 'none'}")

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for h in self.hooks for c in h.checks if c.status not in ("PASS", "PAUSED") and not c.dry_run]

    def to_dict(self) -> dict[str, Any]:
        return {
            "controller": self.controller,
            "deployment_id": self.deployment_id,
            "version": self.version,
            "from_version": self.from_version,
            "status": self.status,
            "promoted": self.promoted,
            "rolled_back": self.rolled_back,
            "reason": self.reason,
            "failed_step": self.failed_step,
            "error_code": self.error_code,
            "duration": round(self.duration, 3),
            "green_targets": list(self.green_targets),
            "hooks": [h.to_dict() for h in self.hooks],
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> DeploymentOutcome:
        hooks = []
        for hook in value.get("hooks") or ():
            checks = tuple(
                CheckOutcome(**{**c, "measurements": tuple(c.get("measurements") or ())}) for c in hook["checks"]
            )
            hooks.append(HookOutcome(**{**hook, "checks": checks, "errors": tuple(hook.get("errors") or ())}))
        skip = ("hooks", "events", "green_targets")
        fields = {k: value[k] for k in cls.__dataclass_fields__ if k in value and k not in skip}
        return cls(**fields, hooks=tuple(hooks), green_targets=tuple(value.get("green_targets") or ()))

    def summary(self) -> str:
        """A few lines: the outcome, each hook, and the failing checks with their reasons."""
        head = "promoted" if self.promoted else ("rolled back" if self.rolled_back else "not promoted")
        lines = [
            f"deployment {short_id(self.deployment_id)} ({self.controller}) {self.from_version} -> {self.version}: "
            f"{self.status}, {head} in {self.duration:.1f} s"
        ]
        if not self.promoted:
            lines.append(f"  why: {self.reason}")
        for hook in self.hooks:
            again = " (rollback)" if hook.rollback else ""
            lines.append(f"  {hook.hook}{again}: {hook.status} in {hook.duration:.1f} s")
            for check in hook.checks:
                lines.append(f"    {check.status:<5} {check.name} ({check.kind}): {check.reason}")
        return "\n".join(lines)


# --- playing ---------------------------------------------------------------------------------------------


class _Halt(Exception):
    """The deployment cannot go on: roll back."""

    def __init__(self, step: str, code: str, message: str, *, status: str = FAILED) -> None:
        super().__init__(message)
        self.step = step
        self.code = code
        self.message = message
        self.status = status


class _Call:
    """One invocation of a function, run in a thread so the caller can stop waiting for it."""

    def __init__(self, process: LambdaProcess, event: Mapping[str, Any], timeout: float) -> None:
        self.process = process
        self.result: InvocationResult | None = None
        self.error: Exception | None = None
        self.done = threading.Event()
        self.handled = False
        self._thread = threading.Thread(
            target=self._run, args=(event, timeout), name=f"invoke-{process.name}", daemon=True
        )
        self._thread.start()

    def _run(self, event: Mapping[str, Any], timeout: float) -> None:
        try:
            self.result = self.process.invoke(event, timeout=timeout)
        except Exception as exc:  # the caller reads it
            self.error = exc
        finally:
            self.done.set()

    @property
    def failure(self) -> str | None:
        """What went wrong (a function error, a timeout, the emulator), or None."""
        if self.error is not None:
            return f"{type(self.error).__name__}: {self.error}"
        result = self.result
        if result is not None and not result.ok:
            return f"{result.error_type}: {result.error_message}"
        return None


def _spec_hooks(spec: Any, controller: str, hooks: Sequence[str] | None) -> list[str]:
    names = lifecycle.CODEDEPLOY_HOOKS if controller == "CODE_DEPLOY" else lifecycle.ECS_STAGES
    if hooks is None:
        return [name for name in names if spec.checks_for(name)]
    chosen = []
    for hook in hooks:
        name = hook if hook in names else lifecycle.equivalent(hook)
        if name not in names:
            raise ValueError(f"hook {hook!r} is not one of {', '.join(names)} (nor their other-controller names)")
        chosen.append(name)
    return [name for name in names if name in chosen]


def play(
    twin: Twin,
    spec_path: Path,
    release: GreenRelease,
    *,
    hook_timeout: float,
    hooks: Sequence[str] | None = None,
    description: str | None = None,
) -> DeploymentOutcome:
    """Plays one deployment on a running twin (use Twin.deploy, which serialises deployments)."""
    from greenlight import spec as specs
    from greenlight_twin.controller import TwinError

    spec_path = Path(spec_path).resolve()
    any_function = next(iter(twin._functions.values()))
    env = lambda_environment(any_function, env_overrides={"GREENLIGHT_SPEC": str(spec_path)})
    try:
        spec = specs.load(str(spec_path), env=env)
    except (specs.SpecError, specs.SpecSourceError) as exc:
        raise TwinError(f"the spec cannot be used: {exc}") from exc
    try:
        chosen = _spec_hooks(spec, twin.controller, hooks)
    except ValueError as exc:
        raise TwinError(str(exc)) from exc
    twin.ensure_functions(spec_path)
    player_cls: type[_Play] = _CodeDeployPlay if twin.controller == "CODE_DEPLOY" else _EcsPlay
    player = player_cls(
        twin,
        spec_path,
        release,
        hook_timeout=hook_timeout,
        hooks=chosen,
        description=description,
        progress=twin._sink or twin.progress,
    )
    twin._current = player
    twin._sink = player.recorder
    if not chosen:
        player.emit(LOG, f"warning: {spec_path} has no checks for any hook: nothing validates green", level="WARNING")
    outcome = player.run()
    twin.deployments.append(outcome)
    return outcome


class _Play:
    """What both controllers' players share: the twin, progress, green's tasks, the function calls."""

    controller = ""

    def __init__(
        self,
        twin: Twin,
        spec_path: Path,
        release: GreenRelease,
        *,
        hook_timeout: float,
        hooks: Sequence[str],
        description: str | None,
        progress: ProgressFn | None,
    ) -> None:
        self.twin = twin
        self.world, self.lb, self.live = twin._require()
        self.spec_path = spec_path
        self.release = release
        self.hook_timeout = float(hook_timeout)
        self.hooks = list(hooks)
        self.description = description
        self.recorder = Recorder(progress)
        self.started = time.monotonic()
        self.outcomes: list[HookOutcome] = []
        self.green: ServiceSide | None = None
        self.green_registered = False
        self.deployment_id = ""
        self._stop = threading.Event()
        self.elb = twin.client("elbv2")
        self.ecs = twin.client("ecs")

    # progress

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def emit(self, kind: str, message: str, **data: Any) -> None:
        try:
            self.recorder(Event(kind, message, self.elapsed(), data))
        except Exception:  # a broken progress view must not break a deployment
            logger.exception("twin: progress function failed")

    def request_stop(self) -> None:
        self._stop.set()

    def stopping(self) -> bool:
        return self._stop.is_set()

    # green

    def start_green(self, step: str) -> ServiceSide:
        green = self.twin.green_side(self.release)
        self.green = green
        try:
            green.start()
        except ServiceError as exc:
            raise _Halt(step, "ECS_UPDATE_ERROR", f"green's tasks did not start: {exc}") from exc
        for task in green:
            self.emit(TASK, f"green task {task.name} running on {task.target[0]}:{task.port} (pid {task.pid})")
        return green

    def register_green(self) -> None:
        assert self.green is not None
        targets = self.green.targets
        self.elb.register_targets(
            TargetGroupArn=self.live.idle_group_arn, Targets=[{"Id": ip, "Port": port} for ip, port in targets]
        )
        self.lb.register_targets(self.live.idle_group, targets)
        self.green_registered = True
        self.emit(STEP, f"green's targets registered in {self.live.idle_group}: {_targets(targets)}")

    def remove_side(self, side: ServiceSide, group: str, group_arn: str, label: str) -> None:
        targets = side.targets if all(t.port for t in side) else []
        if targets:
            try:
                self.elb.deregister_targets(
                    TargetGroupArn=group_arn, Targets=[{"Id": ip, "Port": port} for ip, port in targets]
                )
            except Exception as exc:  # the processes must stop all the same
                logger.warning("twin: deregistering %s's targets in moto failed: %s", label, exc)
            self.lb.deregister_targets(group, targets)
        side.stop()
        self.emit(TASK, f"{label} ({side.version}) deregistered from {group} and stopped")

    def remove_green(self) -> None:
        """Stops green's tasks in a rollback, taking them out of the idle group first if they got there."""
        assert self.green is not None
        if self.green_registered:
            self.remove_side(self.green, self.live.idle_group, self.live.idle_group_arn, "green")
        else:
            self.green.stop()

    # the hook function's log

    def follower(self, process: LambdaProcess) -> LogFollower:
        return LogFollower(
            process.log_path, self.recorder, function=process.name, clock=time.monotonic, started=self.started
        ).start()

    def invoke_timeout(self) -> float:
        return self.twin.function_timeout + INVOKE_WAIT_MARGIN

    def checks_from(self, follower: LogFollower) -> tuple[tuple[CheckOutcome, ...], str | None, str | None]:
        """The checks of the last run the log shows, the verdict, and its reason."""
        checks: dict[str, CheckOutcome] = {}
        verdict = reason = None
        for record in follower.records:
            check = record.get("check")
            if isinstance(check, Mapping) and str(record.get("message", "")).startswith("check "):
                checks[str(check.get("name"))] = CheckOutcome.from_log(check)
            if "verdict" in record and str(record.get("message", "")).startswith("verdict "):
                verdict = str(record.get("verdict"))
                reason = str(record["message"]).split(": ", 1)[-1]
        return tuple(checks.values()), verdict, reason

    @staticmethod
    def errors_from(follower: LogFollower) -> tuple[str, ...]:
        return tuple(
            str(r.get("message")) for r in follower.records if str(r.get("level", "")).upper() in ("ERROR", "CRITICAL")
        )

    # the whole deployment

    def run(self) -> DeploymentOutcome:
        raise NotImplementedError

    def finish(
        self,
        status: str,
        *,
        promoted: bool,
        reason: str,
        failed_step: str | None = None,
        error_code: str | None = None,
    ) -> DeploymentOutcome:
        outcome = DeploymentOutcome(
            controller=self.controller,
            deployment_id=self.deployment_id,
            version=self.release.version,
            from_version=self.live.version,
            status=status,
            promoted=promoted,
            rolled_back=not promoted,
            reason=reason,
            failed_step=failed_step,
            error_code=error_code,
            hooks=tuple(self.outcomes),
            duration=self.elapsed(),
            green_targets=tuple(f"{t.target[0]}:{t.port}" for t in self.green if t.port) if self.green else (),
            events=(),
        )
        word = "promoted: production is on green" if promoted else "rolled back: production stayed on blue"
        self.emit(
            OUTCOME,
            f"deployment {short_id(self.deployment_id)} {status}: {word} ({outcome.duration:.1f} s)",
            **outcome.to_dict(),
        )
        return replace(outcome, events=tuple(self.recorder))

    def traffic_message(self, listener: str) -> str:
        weights = self.lb.weights(listener)
        total = sum(weights.values()) or 1
        split = ", ".join(f"{group} {100 * w / total:.0f}%" for group, w in weights.items())
        return f"{listener} listener :{self.lb.port(listener)} -> {split}"


def short_id(deployment_id: str) -> str:
    """A CodeDeploy id as it is; an ECS service deployment ARN by its last part."""
    return deployment_id.rsplit("/", 1)[-1]


def _targets(targets: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{ip}:{port}" for ip, port in targets)


def _register_task_definition(play: _Play) -> str:
    """A new revision of the service's task definition, for green's version and settings."""
    current = play.ecs.describe_task_definition(taskDefinition=play.live.task_definition_arn)["taskDefinition"]
    container = dict(current["containerDefinitions"][0])
    environment = {"APP_VERSION": play.release.version, **dict(play.release.env)}
    container["environment"] = [{"name": k, "value": str(v)} for k, v in environment.items()]
    container["image"] = f"{str(container.get('image', 'example/app:latest')).rsplit(':', 1)[0]}:{play.release.version}"
    keep = ("family", "requiresCompatibilities", "networkMode", "cpu", "memory", "executionRoleArn")
    arn: str = play.ecs.register_task_definition(
        **{k: current[k] for k in keep if current.get(k) is not None}, containerDefinitions=[container]
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


# --- CodeDeploy ------------------------------------------------------------------------------------------


class _CodeDeployPlay(_Play):
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
        self.task_definition = _register_task_definition(self)
        appspec = build_appspec(
            self.task_definition,
            world.container_name,
            world.container_port,
            {hook: self.twin.hook_function_name(hook) for hook in self.hooks},
        )
        content = json.dumps(appspec)
        cd = self.twin.client("codedeploy")
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
                    raise _Halt(step, "MANUAL_STOP", "the deployment was stopped (StopDeployment)", status=STOPPED)
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
        except _Halt as halt:
            return self.rollback(halt)
        except BaseException as exc:
            self.rollback(_Halt("twin", "INTERNAL_ERROR", f"the twin failed: {type(exc).__name__}: {exc}"))
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
        self.lb.set_weights("test", {self.live.idle_group: 1})
        self.elb.modify_listener(
            ListenerArn=self.world.test_listener_arn,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": self.live.idle_group_arn}],
        )
        self.emit(TRAFFIC, self.traffic_message("test"), listener="test", weights=self.lb.weights("test"))

    def step_AllowTraffic(self) -> None:  # noqa: N802
        from greenlight_twin import aws as twin_aws

        self.lb.set_weights("prod", {self.live.idle_group: 1})
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
        self.emit(TRAFFIC, self.traffic_message("prod"), listener="prod", weights=self.lb.weights("prod"))

    # hooks

    def hook(self, hook: str) -> None:
        from greenlight_twin import aws as twin_aws

        function = self.twin.hook_function_name(hook)
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
        process = self.twin.function_for(hook)
        follower = self.follower(process)
        call = _Call(process, event, self.invoke_timeout())
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
                    process = self.twin.function_for(hook)
                    call = _Call(process, event, self.invoke_timeout())
                    self.emit(HOOK, f"{hook}: invocation {invocations} (asynchronous retry)", hook=hook)
                time.sleep(_POLL)
            if status is not None:
                call.done.wait(AFTER_REPORT_WAIT)
            if not call.done.is_set():
                # Abandoned: a fresh emulator replaces it, so the next hook never queues behind it.
                self.twin.restart_function(hook)
        finally:
            follower.stop()
        duration = time.monotonic() - started
        checks, verdict, verdict_reason = self.checks_from(follower)
        errors = self.errors_from(follower) + tuple(failures)
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
            raise _Halt(hook, "MANUAL_STOP", "the deployment was stopped (StopDeployment)", status=STOPPED)
        if final != SUCCEEDED:
            raise _Halt(hook, "HOOK_EXECUTION_FAILURE", f"lifecycle event {hook} failed: {reason}")

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
        self.twin.promote(
            old.promoted(
                green,
                self.task_definition,
                task_set_id=self.task_sets["Green"].identifier,
                task_set_arn=self.green_task_set_arn,
            )
        )
        return self.finish(SUCCEEDED, promoted=True, reason="every lifecycle event succeeded")

    def rollback(self, halt: _Halt) -> DeploymentOutcome:
        from greenlight_twin import aws as twin_aws

        live = self.live
        self.emit(ROLLBACK, f"rolling back ({halt.step}): {halt.message}", step=halt.step)
        for listener, arn in (("prod", self.world.prod_listener_arn), ("test", self.world.test_listener_arn)):
            if self.lb.weights(listener) != {live.target_group: 1}:
                self.lb.set_weights(listener, {live.target_group: 1})
                self.elb.modify_listener(
                    ListenerArn=arn, DefaultActions=[{"Type": "forward", "TargetGroupArn": live.target_group_arn}]
                )
                self.emit(TRAFFIC, self.traffic_message(listener), listener=listener, weights=self.lb.weights(listener))
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


# --- ECS native blue/green ------------------------------------------------------------------------------

_ECS_SUCCEEDED, _ECS_FAILED, _ECS_IN_PROGRESS = "SUCCEEDED", "FAILED", "IN_PROGRESS"
DEFAULT_CALLBACK_DELAY = 30.0


class _EcsPlay(_Play):
    controller = "ECS"

    def run(self) -> DeploymentOutcome:
        from greenlight_twin import aws as twin_aws

        world, live = self.world, self.live
        assert world.prod_rule_arn and world.test_rule_arn and live.revision_arn
        self.task_definition = _register_task_definition(self)
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
        self.revision = twin_aws.register_service_revision(
            world.service_arn,
            task_definition=self.task_definition,
            load_balancers=balancers,
            resolved_load_balancers=[
                {"targetGroupArn": live.idle_group_arn, "productionListenerRule": world.prod_rule_arn}
            ],
        )
        self.blue_revision = live.revision_arn
        self.tasks = self.release.tasks or len(live.side.tasks)
        self.running = 0
        # The weight maps of the hook events: what each revision gets on each listener, in percent.
        self.test_weights: dict[str, float] = {}
        self.prod_weights: dict[str, float] = {self.blue_revision: 100.0}
        self.deployment_id = twin_aws.start_service_deployment(
            world.service_arn,
            target_revision=self.summary(self.revision),
            source_revisions=[self.summary(self.blue_revision)],
            status="IN_PROGRESS",
            lifecycle_stage="RECONCILE_SERVICE",
        )
        self.emit(
            DEPLOYMENT,
            f"service deployment {self.deployment_id.rsplit('/', 1)[-1]} (ECS native blue/green, service "
            f"{world.service_name}): {live.version} -> {self.release.version}, {self.tasks} task(s); "
            f"hook stages: {', '.join(self.hooks) or 'none'}",
            deployment_id=self.deployment_id,
            revision=self.revision,
            spec=str(self.spec_path),
        )
        try:
            for stage in lifecycle.ECS_STAGES:
                if self.stopping():
                    raise _Halt(stage, "STOPPED", "the deployment was stopped", status="STOPPED")
                # What ECS does between the stages: scale green up before POST_SCALE_UP, move traffic at the shifts.
                if stage == "POST_SCALE_UP":
                    self.scale_up()
                self.set_stage(stage)
                if stage == "TEST_TRAFFIC_SHIFT":
                    self.test_weights = {self.blue_revision: 0.0, self.revision: 100.0}
                    self.rules()
                elif stage == "PRODUCTION_TRAFFIC_SHIFT":
                    self.prod_weights = {self.blue_revision: 0.0, self.revision: 100.0}
                    self.rules()
                if stage in self.hooks:
                    outcome = self.stage_hook(stage)
                    if not outcome.passed:
                        stopped = outcome.status == STOPPED
                        raise _Halt(
                            stage,
                            "STOPPED" if stopped else "HOOK_FAILED",
                            f"lifecycle hook at {stage} {outcome.status}: {outcome.reason}",
                            status="STOPPED" if stopped else FAILED,
                        )
        except _Halt as halt:
            return self.rollback(halt)
        except BaseException as exc:
            self.rollback(_Halt("twin", "INTERNAL_ERROR", f"the twin failed: {type(exc).__name__}: {exc}"))
            raise
        return self.succeed()

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

    def set_stage(self, stage: str, status: str | None = None) -> None:
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
        )
        if status is None:
            self.emit(STEP, stage, stage=stage)

    def rules(self) -> None:
        """The listener rules (moto) and listeners (load balancer) forward by the weights of the maps."""
        from greenlight_twin.controller import weighted

        live = self.live
        for listener, rule, weights in (
            ("prod", self.world.prod_rule_arn, self.prod_weights),
            ("test", self.world.test_rule_arn, self.test_weights),
        ):
            green = int(weights.get(self.revision, 0.0))
            blue = 100 - green
            assert rule is not None
            if self.lb.weights(listener) != {live.target_group: blue, live.idle_group: green}:
                self.lb.set_weights(listener, {live.target_group: blue, live.idle_group: green})
                self.elb.modify_rule(
                    RuleArn=rule, Actions=[weighted(live.target_group_arn, blue, live.idle_group_arn, green)]
                )
                self.emit(TRAFFIC, self.traffic_message(listener), listener=listener, weights=self.lb.weights(listener))

    # the stages' own work

    def scale_up(self) -> None:
        self.set_stage("SCALE_UP")
        green = self.start_green("SCALE_UP")
        self.register_green()
        self.running = len(green.tasks)
        self.prod_weights = {self.blue_revision: 100.0, self.revision: 0.0}

    # hooks

    def stage_hook(self, stage: str, *, rollback: bool = False) -> HookOutcome:
        function = self.twin.hook_function_name(stage)
        execution_id = str(uuid.uuid4())
        hook_details: dict[str, Any] = {}
        started = time.monotonic()
        deadline = started + self.hook_timeout
        self.emit(
            HOOK,
            f"{stage}{' (rollback)' if rollback else ''}: ECS invokes {function} "
            f"(test {_pct(self.test_weights, self.revision)}, production {_pct(self.prod_weights, self.revision)} "
            f"to green)",
            hook=stage,
            function=function,
        )
        process = self.twin.function_for(stage)
        follower = self.follower(process)
        rounds, answer, status, reason = 0, None, None, ""
        errors: list[str] = []
        try:
            while status is None:
                rounds += 1
                event = {
                    "executionId": execution_id,
                    "lifecycleStage": stage,
                    "resourceArn": self.deployment_id,
                    "executionDetails": {
                        "serviceArn": self.world.service_arn,
                        "targetServiceRevisionArn": self.revision,
                        "testTrafficWeights": dict(self.test_weights),
                        "productionTrafficWeights": dict(self.prod_weights),
                    },
                    "hookDetails": dict(hook_details),
                }
                process = self.twin.function_for(stage)
                call = _Call(process, event, self.invoke_timeout())
                while not call.done.wait(_POLL):
                    if self.stopping() or time.monotonic() >= deadline:
                        break
                if not call.done.is_set():
                    self.twin.restart_function(stage)
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
                    time.sleep(_POLL)
                if self.stopping():
                    status, reason = STOPPED, "the deployment was stopped while the hook ran"
                elif time.monotonic() >= deadline:
                    status = TIMED_OUT
                    reason = f"the hook was still IN_PROGRESS at the hook timeout of {self.hook_timeout:g} s"
        finally:
            follower.stop()
        duration = time.monotonic() - started
        checks, verdict, verdict_reason = self.checks_from(follower)
        outcome = HookOutcome(
            hook=stage,
            function=function,
            status=status,
            reason=reason or verdict_reason or "",
            duration=duration,
            invocations=rounds,
            checks=checks,
            verdict=verdict,
            errors=self.errors_from(follower) + tuple(errors),
            log_path=str(process.log_path),
            rollback=rollback,
        )
        self.outcomes.append(outcome)
        self.emit(HOOK, f"{stage}: {status} after {duration:.1f} s - {outcome.reason}", hook=stage, status=status)
        return outcome

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
        self.twin.promote(old.promoted(green, self.task_definition, revision_arn=self.revision))
        return self.finish("SUCCESSFUL", promoted=True, reason="every lifecycle stage succeeded")

    def rollback(self, halt: _Halt) -> DeploymentOutcome:
        self.emit(ROLLBACK, f"rolling back ({halt.step}): {halt.message}", step=halt.step)
        final = "ROLLBACK_SUCCESSFUL"
        try:
            self.set_stage(
                halt.step if halt.step in lifecycle.ECS_STAGES else "RECONCILE_SERVICE", "ROLLBACK_IN_PROGRESS"
            )
        except Exception as exc:  # the rollback itself must go on
            logger.warning("twin: recording the rollback in moto failed: %s", exc)
        # ECS runs the traffic-shift stages again, with the target revision at weight 0.
        for stage, shift in (("TEST_TRAFFIC_SHIFT", "test"), ("PRODUCTION_TRAFFIC_SHIFT", "prod")):
            weights = {self.blue_revision: 100.0, self.revision: 0.0}
            if shift == "test":
                self.test_weights = weights
            else:
                self.prod_weights = weights
            self.rules()
            if stage in self.hooks and self.green is not None and halt.status != "STOPPED":
                outcome = self.stage_hook(stage, rollback=True)
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


def _pct(weights: Mapping[str, float], revision: str) -> str:
    return f"{weights[revision]:g}%" if revision in weights else "-"


def _ecs_reason(answer: Mapping[str, Any]) -> str | None:
    details = answer.get("hookDetails")
    state = details.get("greenlight") if isinstance(details, Mapping) else None
    if isinstance(state, Mapping) and state.get("reason"):
        return str(state["reason"])
    return None
