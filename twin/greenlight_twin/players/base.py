"""What both deployment players share: green's tasks, calling a hook function, reading its log, the outcome.

A player sees the twin only through its `Stage` (greenlight_twin.stage). `Halt` is how a player stops a
deployment: whatever raises it, the player rolls back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from greenlight import lifecycle
from greenlight_twin.functions import INVOKE_WAIT_MARGIN, InvocationResult, LambdaProcess
from greenlight_twin.hooklog import HookReport, LogFollower
from greenlight_twin.outcome import FAILED, DeploymentOutcome, HookOutcome, short_id
from greenlight_twin.progress import OUTCOME, STEP, TASK, TRAFFIC, Event, ProgressFn, Recorder
from greenlight_twin.services import ServiceError, ServiceSide
from greenlight_twin.stage import GreenRelease, Stage

__all__ = ["POLL", "Call", "Halt", "Player", "hooks_to_run", "register_task_definition"]

logger = logging.getLogger(__name__)

POLL = 0.05  # how often a player looks at what it waits for


class Halt(Exception):
    """The deployment cannot go on: roll back."""

    def __init__(self, step: str, code: str, message: str, *, status: str = FAILED) -> None:
        super().__init__(message)
        self.step = step
        self.code = code
        self.message = message
        self.status = status


class Call:
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


def hooks_to_run(spec: Any, controller: str, hooks: Sequence[str] | None) -> list[str]:
    """The hooks (or stages) that invoke the function, in lifecycle order: `hooks`, or those `spec` has checks for."""
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


class Player:
    """What both controllers' players share: the stage, progress, green's tasks, the function calls."""

    controller = ""

    def __init__(
        self,
        stage: Stage,
        spec_path: Path,
        release: GreenRelease,
        *,
        hook_timeout: float,
        hooks: Sequence[str],
        description: str | None,
        progress: ProgressFn | None,
    ) -> None:
        self.stage = stage
        self.world, self.live = stage.world, stage.live
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
        self.elb = stage.client("elbv2")
        self.ecs = stage.client("ecs")

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
        green = self.stage.green_side(self.release)
        self.green = green
        try:
            green.start()
        except ServiceError as exc:
            raise Halt(step, "ECS_UPDATE_ERROR", f"green's tasks did not start: {exc}") from exc
        for task in green:
            self.emit(TASK, f"green task {task.name} running on {task.target[0]}:{task.port} (pid {task.pid})")
        return green

    def register_green(self) -> None:
        assert self.green is not None
        targets = self.green.targets
        self.elb.register_targets(
            TargetGroupArn=self.live.idle_group_arn, Targets=[{"Id": ip, "Port": port} for ip, port in targets]
        )
        self.stage.register_targets(self.live.idle_group, targets)
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
            self.stage.deregister_targets(group, targets)
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
        return self.stage.function_timeout + INVOKE_WAIT_MARGIN

    @staticmethod
    def report(follower: LogFollower) -> HookReport:
        """What the hook's structured log events say: its checks, verdict, reason and error lines."""
        return follower.report()

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

    def traffic_changed(self, listener: str) -> None:
        """Tells that `listener`'s forward weights changed, and what they are now."""
        self.emit(TRAFFIC, self.traffic_message(listener), listener=listener, weights=self.stage.weights(listener))

    def traffic_message(self, listener: str) -> str:
        weights = self.stage.weights(listener)
        total = sum(weights.values()) or 1
        split = ", ".join(f"{group} {100 * w / total:.0f}%" for group, w in weights.items())
        return f"{listener} listener :{self.stage.listener_port(listener)} -> {split}"


def _targets(targets: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{ip}:{port}" for ip, port in targets)


def register_task_definition(play: Player) -> str:
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
