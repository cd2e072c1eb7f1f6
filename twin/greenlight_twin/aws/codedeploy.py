"""CodeDeploy in the twin: ECS deployment targets, lifecycle hook executions, and backdoors to drive them.

moto 5 has no GetDeploymentTarget, ListDeploymentTargets, BatchGetDeploymentTargets,
PutLifecycleEventHookExecutionStatus or StopDeployment, gives deployments UUIDs instead of `d-XXXXXXXXX` ids, defaults
ECS deployment groups to a server deployment config and drops a group's alarm configuration.
`install()` adds or fixes these by monkeypatching moto's CodeDeploy backend and response classes.

What a real deployment learns from ECS (its task sets, their counts and weights) and when CodeDeploy
invokes a hook are not something moto can know, so tests and the twin set them with the backdoor
functions here: `set_ecs_target`, `update_ecs_task_set`, `set_lifecycle_event`, `open_hook_execution`,
`set_deployment_status`; read what a hook reported with `hook_execution` / `hook_executions`, and
whether someone called StopDeployment with `stop_requested` (the twin's player stops and rolls back).
`forget_deployment` removes a deployment (CodeDeploy has no API for it), for worlds seeded at rest.
The state lives on moto's backend objects, so moto's reset clears it too.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from moto.codedeploy import models as cd_models
from moto.codedeploy import responses as cd_responses
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import utcnow

from greenlight_twin.aws._util import UnknownResourceError, backends, choice, enum, non_negative

# The hooks an ECS AppSpec can name, in the order CodeDeploy runs them.
ECS_HOOK_EVENTS = (
    "BeforeInstall",
    "AfterInstall",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)
# Every lifecycle event of an ECS deployment target (hooks and the steps CodeDeploy does itself).
ECS_LIFECYCLE_EVENTS = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)
_TERMINAL = ("Succeeded", "Failed", "Stopped")
_REPORTABLE = ("Succeeded", "Failed")

_lock = threading.RLock()


# --- public data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EcsTaskSet:
    """One entry of `ecsTarget.taskSetsInfo`: a task set as CodeDeploy reports it."""

    identifier: str  # the ECS task set id, e.g. "ecs-svc/1234567890123456789" (the API spells it `identifer`)
    label: str  # "Blue" (original) or "Green" (replacement); any case is accepted
    target_group: str  # target group *name*
    desired_count: int = 1
    running_count: int | None = None  # None: equal to desired_count
    pending_count: int = 0
    status: str = "ACTIVE"  # the ECS task set status: PRIMARY, ACTIVE or DRAINING
    traffic_weight: float = 0.0

    def checked(self) -> EcsTaskSet:
        label = choice(self.label, enum("codedeploy", "TargetLabel"), "task set label", fold_case=True)
        status = choice(self.status, ("PRIMARY", "ACTIVE", "DRAINING"), "task set status", fold_case=True)
        if not self.identifier or not isinstance(self.identifier, str):
            raise ValueError(f"task set identifier must be a non-empty string, got {self.identifier!r}")
        if not self.target_group or not isinstance(self.target_group, str):
            raise ValueError(f"task set target_group must be a target group name, got {self.target_group!r}")
        desired = non_negative(self.desired_count, "desired_count")
        running = desired if self.running_count is None else non_negative(self.running_count, "running_count")
        non_negative(self.pending_count, "pending_count")
        weight = float(self.traffic_weight)
        if not 0.0 <= weight <= 100.0:
            raise ValueError(f"traffic_weight must be between 0 and 100, got {self.traffic_weight!r}")
        return replace(self, label=label, status=status, running_count=running, traffic_weight=weight)

    def to_api(self) -> dict[str, Any]:
        return {
            "identifer": self.identifier,  # sic: the real field name
            "desiredCount": self.desired_count,
            "pendingCount": self.pending_count,
            "runningCount": self.running_count,
            "status": self.status,
            "trafficWeight": self.traffic_weight,
            "targetGroup": {"name": self.target_group},
            "taskSetLabel": self.label,
        }


@dataclass(frozen=True)
class HookExecution:
    """A lifecycle hook execution the twin opened, and what the hook reported for it."""

    execution_id: str
    deployment_id: str
    lifecycle_event_name: str
    status: str | None  # the recorded status (Succeeded/Failed), None until the hook reports
    reports: tuple[str, ...]  # every status a caller tried to report, accepted or refused, in order
    opened_at: datetime
    reported_at: datetime | None


# --- state kept on moto's backend --------------------------------------------------------------------


@dataclass
class _LifecycleEvent:
    status: str = "Pending"
    start: datetime | None = None
    end: datetime | None = None


@dataclass
class _EcsTarget:
    deployment_id: str
    cluster: str
    service: str
    target_arn: str
    status: str
    task_sets: list[EcsTaskSet]
    events: dict[str, _LifecycleEvent]
    updated_at: datetime = field(default_factory=utcnow)

    @property
    def target_id(self) -> str:
        return f"{self.cluster}:{self.service}"

    def to_api(self) -> dict[str, Any]:
        events = []
        for name, event in self.events.items():
            item: dict[str, Any] = {"lifecycleEventName": name, "status": event.status}
            if event.start is not None:
                item["startTime"] = event.start
            if event.end is not None:
                item["endTime"] = event.end
            events.append(item)
        return {
            "deploymentTargetType": "ECSTarget",
            "ecsTarget": {
                "deploymentId": self.deployment_id,
                "targetId": self.target_id,
                "targetArn": self.target_arn,
                "lastUpdatedAt": self.updated_at,
                "lifecycleEvents": events,
                "status": self.status,
                "taskSetsInfo": [ts.to_api() for ts in self.task_sets],
            },
        }


@dataclass
class _Hook:
    execution_id: str
    deployment_id: str
    event: str
    opened_at: datetime
    status: str | None = None
    reported_at: datetime | None = None
    reports: list[str] = field(default_factory=list)

    def snapshot(self) -> HookExecution:
        return HookExecution(
            self.execution_id,
            self.deployment_id,
            self.event,
            self.status,
            tuple(self.reports),
            self.opened_at,
            self.reported_at,
        )


@dataclass
class _State:
    targets: dict[str, _EcsTarget] = field(default_factory=dict)
    hooks: dict[str, _Hook] = field(default_factory=dict)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    stops: dict[str, bool] = field(default_factory=dict)  # deployment id -> autoRollbackEnabled asked


def _state(backend: Any) -> _State:
    # Kept on the backend object: moto's reset replaces the backend's __dict__, and this with it.
    with _lock:
        state = backend.__dict__.get("_greenlight")
        if state is None:
            state = backend.__dict__["_greenlight"] = _State()
        return state


def _locate(deployment_id: str) -> tuple[Any, Any]:
    for backend in backends(cd_models.codedeploy_backends):
        deployment = backend.deployments.get(deployment_id)
        if deployment is not None:
            return backend, deployment
    raise UnknownResourceError(f"no CodeDeploy deployment {deployment_id!r} in the twin")


def _target(deployment_id: str) -> _EcsTarget:
    backend, _ = _locate(deployment_id)
    target = _state(backend).targets.get(deployment_id)
    if target is None:
        raise UnknownResourceError(f"deployment {deployment_id!r} has no ECS target yet: call set_ecs_target() first")
    return target


# --- backdoors ---------------------------------------------------------------------------------------


def set_ecs_target(
    deployment_id: str,
    *,
    cluster: str,
    service: str,
    task_sets: list[EcsTaskSet],
    status: str = "InProgress",
    lifecycle_events: dict[str, str] | None = None,
) -> None:
    """Give a deployment its ECS deployment target (what GetDeploymentTarget answers).

    `lifecycle_events` maps event names (ECS_LIFECYCLE_EVENTS) to statuses; the others stay Pending.
    """
    backend, _ = _locate(deployment_id)
    status = choice(status, enum("codedeploy", "TargetStatus"), "target status")
    checked = [ts.checked() for ts in task_sets]
    labels = [ts.label for ts in checked]
    if len(set(labels)) != len(labels):
        raise ValueError(f"task_sets repeat a label: {labels}; give one Blue and one Green")
    now = utcnow()
    events = {name: _LifecycleEvent() for name in ECS_LIFECYCLE_EVENTS}
    for name, event_status in (lifecycle_events or {}).items():
        name = choice(name, ECS_LIFECYCLE_EVENTS, "lifecycle event")
        events[name] = _event_in(event_status, now)
    target_arn = f"arn:aws:ecs:{backend.region_name}:{backend.account_id}:service/{cluster}/{service}"
    with _lock:
        _state(backend).targets[deployment_id] = _EcsTarget(
            deployment_id, cluster, service, target_arn, status, checked, events, now
        )


def _event_in(status: str, now: datetime) -> _LifecycleEvent:
    status = choice(status, enum("codedeploy", "LifecycleEventStatus"), "lifecycle event status")
    if status == "Pending":
        return _LifecycleEvent()
    if status == "InProgress":
        return _LifecycleEvent(status, now)
    return _LifecycleEvent(status, now, now)


def update_ecs_task_set(
    deployment_id: str,
    label: str,
    *,
    traffic_weight: float | None = None,
    desired_count: int | None = None,
    running_count: int | None = None,
    pending_count: int | None = None,
    status: str | None = None,
) -> EcsTaskSet:
    """Change the Blue or Green entry of a deployment's taskSetsInfo (e.g. shift traffic); returns it."""
    label = choice(label, enum("codedeploy", "TargetLabel"), "task set label", fold_case=True)
    changes: dict[str, Any] = {
        key: value
        for key, value in {
            "traffic_weight": traffic_weight,
            "desired_count": desired_count,
            "running_count": running_count,
            "pending_count": pending_count,
            "status": status,
        }.items()
        if value is not None
    }
    with _lock:
        target = _target(deployment_id)
        for index, task_set in enumerate(target.task_sets):
            if task_set.label == label:
                updated = replace(task_set, **changes).checked()
                target.task_sets[index] = updated
                target.updated_at = utcnow()
                return updated
    raise UnknownResourceError(f"deployment {deployment_id!r} has no {label} task set")


def set_lifecycle_event(deployment_id: str, name: str, status: str) -> None:
    """Set one lifecycle event of a deployment's ECS target (start/end times follow the status)."""
    name = choice(name, ECS_LIFECYCLE_EVENTS, "lifecycle event")
    with _lock:
        target = _target(deployment_id)
        previous = target.events[name]
        event = _event_in(status, utcnow())
        if previous.start is not None and event.start is not None:
            event.start = previous.start
        target.events[name] = event
        target.updated_at = utcnow()


def open_hook_execution(deployment_id: str, lifecycle_event_name: str) -> str:
    """Start a lifecycle hook execution, as CodeDeploy does before invoking a hook; returns its id.

    If the deployment has an ECS target, that lifecycle event becomes InProgress.
    """
    event = choice(lifecycle_event_name, ECS_HOOK_EVENTS, "lifecycle hook")
    backend, _ = _locate(deployment_id)
    execution_id = _new_execution_id()
    now = utcnow()
    with _lock:
        state = _state(backend)
        state.hooks[execution_id] = _Hook(execution_id, deployment_id, event, now)
        target = state.targets.get(deployment_id)
        if target is not None:
            target.events[event] = _LifecycleEvent("InProgress", now)
            target.updated_at = now
    return execution_id


def hook_execution(execution_id: str) -> HookExecution:
    """What the twin knows about one hook execution, including every report tried for it."""
    with _lock:
        for backend in backends(cd_models.codedeploy_backends):
            hook = _state(backend).hooks.get(execution_id)
            if hook is not None:
                return hook.snapshot()
    raise UnknownResourceError(f"no lifecycle hook execution {execution_id!r} in the twin")


def reported_status(execution_id: str) -> str | None:
    """The status recorded for a hook execution (Succeeded/Failed), or None if nothing was reported."""
    return hook_execution(execution_id).status


def hook_executions(deployment_id: str) -> list[HookExecution]:
    """Every hook execution opened for a deployment, oldest first."""
    backend, _ = _locate(deployment_id)
    with _lock:
        hooks = [h for h in _state(backend).hooks.values() if h.deployment_id == deployment_id]
        return [h.snapshot() for h in sorted(hooks, key=lambda h: h.opened_at)]


def set_deployment_status(
    deployment_id: str,
    status: str,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    """Set what GetDeployment reports as the deployment's status (and errorInformation, if given)."""
    status = choice(status, enum("codedeploy", "DeploymentStatus"), "deployment status")
    if error_code is not None:
        error_code = choice(error_code, enum("codedeploy", "ErrorCode"), "error code")
    backend, deployment = _locate(deployment_id)
    now = utcnow()
    with _lock:
        deployment.status = status
        if status not in ("Created", "Queued") and deployment.start_time is None:
            deployment.start_time = now
        if status in _TERMINAL:
            deployment.complete_time = now
        errors = _state(backend).errors
        if error_code or error_message:
            errors[deployment_id] = {
                key: value for key, value in (("code", error_code), ("message", error_message)) if value is not None
            }
        else:
            errors.pop(deployment_id, None)


def stop_requested(deployment_id: str) -> bool | None:
    """None unless StopDeployment was called for the deployment; then whether a rollback was asked for."""
    backend, _ = _locate(deployment_id)
    with _lock:
        return _state(backend).stops.get(deployment_id)


def forget_deployment(deployment_id: str) -> bool:
    """Remove a deployment and everything the twin kept for it; True if it existed."""
    try:
        backend, _ = _locate(deployment_id)
    except UnknownResourceError:
        return False
    with _lock:
        backend.deployments.pop(deployment_id, None)
        state = _state(backend)
        state.targets.pop(deployment_id, None)
        state.errors.pop(deployment_id, None)
        state.stops.pop(deployment_id, None)
        for execution_id in [k for k, hook in state.hooks.items() if hook.deployment_id == deployment_id]:
            del state.hooks[execution_id]
    return True


def deployment_group_arn(
    *,
    region: str,
    deployment_id: str | None = None,
    application_name: str | None = None,
    deployment_group_name: str | None = None,
) -> str | None:
    """The deployment group ARN for a deployment id or an application/group pair, if the twin knows it."""
    account = None
    if deployment_id:
        try:
            backend, deployment = _locate(deployment_id)
        except UnknownResourceError:
            return None
        application_name = deployment.application_name
        deployment_group_name = deployment.deployment_group_name
        region, account = backend.region_name, backend.account_id
    if not (application_name and deployment_group_name):
        return None
    if account is None:
        account = next(
            (b.account_id for b in backends(cd_models.codedeploy_backends) if b.region_name == region),
            "123456789012",
        )
    return f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{application_name}/{deployment_group_name}"


def _new_execution_id() -> str:
    # Real ids are opaque base64 of a JSON envelope; keep that look so nothing relies on a simpler shape.
    envelope = {
        "encryptedData": base64.b64encode(secrets.token_bytes(96)).decode(),
        "ivParameterSpec": base64.b64encode(secrets.token_bytes(12)).decode(),
        "materialSetSerial": 1,
    }
    return base64.b64encode(json.dumps(envelope, separators=(",", ":")).encode()).decode()


def _new_deployment_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "d-" + "".join(secrets.choice(alphabet) for _ in range(9))


# --- API errors (the real API's codes) ----------------------------------------------------------------


class _Error(ServiceException):
    pass


class DeploymentIdRequiredException(_Error):
    code = "DeploymentIdRequiredException"
    message = "A deployment ID must be specified."


class DeploymentNotStartedException(_Error):
    code = "DeploymentNotStartedException"


class DeploymentTargetIdRequiredException(_Error):
    code = "DeploymentTargetIdRequiredException"
    message = "A deployment target ID was not provided."


class DeploymentTargetDoesNotExistException(_Error):
    code = "DeploymentTargetDoesNotExistException"


class InvalidLifecycleEventHookExecutionIdException(_Error):
    code = "InvalidLifecycleEventHookExecutionIdException"


class InvalidLifecycleEventHookExecutionStatusException(_Error):
    code = "InvalidLifecycleEventHookExecutionStatusException"


class LifecycleEventAlreadyCompletedException(_Error):
    code = "LifecycleEventAlreadyCompletedException"


class DeploymentAlreadyCompletedException(_Error):
    code = "DeploymentAlreadyCompletedException"


# --- API operations added to moto's CodeDeployResponse ------------------------------------------------


def _deployment(response: Any) -> Any:
    deployment_id = response._get_param("deploymentId")
    if not deployment_id:
        raise DeploymentIdRequiredException()
    return response.codedeploy_backend.get_deployment(deployment_id)  # raises DeploymentDoesNotExist


def _targets_of(response: Any, deployment: Any) -> list[_EcsTarget]:
    target = _state(response.codedeploy_backend).targets.get(deployment.deployment_id)
    if target is None and deployment.status in ("Created", "Queued"):
        raise DeploymentNotStartedException(f"The deployment {deployment.deployment_id} has not started.")
    return [target] if target is not None else []


def _find_target(response: Any, deployment: Any, target_id: str) -> _EcsTarget:
    for target in _targets_of(response, deployment):
        if target.target_id == target_id:
            return target
    raise DeploymentTargetDoesNotExistException(
        f"The target {target_id} does not exist in deployment {deployment.deployment_id}."
    )


def _get_deployment_target(self: Any) -> ActionResult:
    deployment = _deployment(self)
    target_id = self._get_param("targetId")
    if not target_id:
        raise DeploymentTargetIdRequiredException()
    with _lock:
        return ActionResult({"deploymentTarget": _find_target(self, deployment, target_id).to_api()})


def _batch_get_deployment_targets(self: Any) -> ActionResult:
    deployment = _deployment(self)
    target_ids = self._get_param("targetIds") or []
    if not target_ids:
        raise DeploymentTargetIdRequiredException()
    with _lock:
        found = [_find_target(self, deployment, target_id).to_api() for target_id in target_ids]
    return ActionResult({"deploymentTargets": found})


def _list_deployment_targets(self: Any) -> ActionResult:
    deployment = _deployment(self)
    filters = self._get_param("targetFilters") or {}
    statuses = filters.get("TargetStatus") or []
    with _lock:
        ids = [t.target_id for t in _targets_of(self, deployment) if not statuses or t.status in statuses]
    return ActionResult({"targetIds": ids})


def _put_lifecycle_event_hook_execution_status(self: Any) -> ActionResult:
    deployment = _deployment(self)
    execution_id = self._get_param("lifecycleEventHookExecutionId")
    status = self._get_param("status")
    with _lock:
        state = _state(self.codedeploy_backend)
        hook = state.hooks.get(execution_id or "")
        if hook is None or hook.deployment_id != deployment.deployment_id:
            raise InvalidLifecycleEventHookExecutionIdException(
                f"The lifecycle event hook execution ID {execution_id} is not valid "
                f"for deployment {deployment.deployment_id}."
            )
        hook.reports.append(str(status))
        if status not in _REPORTABLE:
            raise InvalidLifecycleEventHookExecutionStatusException(
                f"The status {status} is not valid: a lifecycle hook reports Succeeded or Failed."
            )
        if hook.status is not None:
            raise LifecycleEventAlreadyCompletedException(
                f"The lifecycle event {hook.event} of deployment {deployment.deployment_id} "
                f"has already completed with status {hook.status}."
            )
        if deployment.status in _TERMINAL:
            raise LifecycleEventAlreadyCompletedException(
                f"The lifecycle event {hook.event} of deployment {deployment.deployment_id} has already "
                f"completed: the deployment is {deployment.status}."
            )
        now = utcnow()
        hook.status, hook.reported_at = status, now
        target = state.targets.get(deployment.deployment_id)
        if target is not None:
            start = target.events[hook.event].start or hook.opened_at
            target.events[hook.event] = _LifecycleEvent(status, start, now)
            target.updated_at = now
    return ActionResult({"lifecycleEventHookExecutionId": execution_id})


def _stop_deployment(self: Any) -> ActionResult:
    deployment = _deployment(self)
    if deployment.status in _TERMINAL:
        raise DeploymentAlreadyCompletedException(
            f"The deployment {deployment.deployment_id} has already completed with status {deployment.status}."
        )
    auto_rollback = self._get_param("autoRollbackEnabled")
    with _lock:
        _state(self.codedeploy_backend).stops[deployment.deployment_id] = (
            True if auto_rollback is None else bool(auto_rollback)
        )
    return ActionResult(
        {"status": "Pending", "statusMessage": f"Stop of deployment {deployment.deployment_id} requested"}
    )


# --- fixes to what moto answers for deployments and groups --------------------------------------------


def _wrap_deployment_info(original: Any) -> Any:
    def deployment_info(deployment: Any) -> dict[str, Any]:
        info = original(deployment)
        backend, _ = _locate(deployment.deployment_id)
        error = _state(backend).errors.get(deployment.deployment_id)
        info["errorInformation"] = dict(error) if error else {}
        return info

    deployment_info.__wrapped__ = original  # type: ignore[attr-defined]
    return deployment_info


def _wrap_group_info(original: Any) -> Any:
    def group_info(group: Any) -> dict[str, Any]:
        info = original(group)
        alarms = group.alarm_configuration
        if isinstance(alarms, dict):  # moto keeps the request's dict but answers {}
            info["alarmConfiguration"] = alarms
        backend = next(
            (b for b in backends(cd_models.codedeploy_backends) if group in _groups(b)),
            None,
        )
        if backend is not None:
            mine = [
                d
                for d in backend.deployments.values()
                if d.application_name == group.application.application_name
                and d.deployment_group_name == group.deployment_group_name
            ]
            if mine:
                info["lastAttemptedDeployment"] = _deployment_summary(max(mine, key=lambda d: d.create_time))
            done = [d for d in mine if d.status == "Succeeded"]
            if done:
                info["lastSuccessfulDeployment"] = _deployment_summary(max(done, key=lambda d: d.create_time))
        return info

    group_info.__wrapped__ = original  # type: ignore[attr-defined]
    return group_info


def _groups(backend: Any) -> list[Any]:
    return [g for groups in backend.deployment_groups.values() for g in groups.values()]


def _deployment_summary(deployment: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "deploymentId": deployment.deployment_id,
        "status": deployment.status,
        "createTime": deployment.create_time,
    }
    if deployment.complete_time is not None:
        summary["endTime"] = deployment.complete_time
    return summary


def _wrap_create_deployment_group(original: Any) -> Any:
    def create_deployment_group(self: Any, application_name: str, *args: Any, **kwargs: Any) -> str:
        app = self.applications.get(application_name)
        if app is not None and app.compute_platform == "ECS" and not kwargs.get("deployment_config_name"):
            # CodeDeploy's default for ECS groups; moto would answer the EC2 default (OneAtATime).
            kwargs["deployment_config_name"] = "CodeDeployDefault.ECSAllAtOnce"
        return original(self, application_name, *args, **kwargs)

    create_deployment_group.__wrapped__ = original  # type: ignore[attr-defined]
    return create_deployment_group


def _wrap_deployment_init(original: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.deployment_id = _new_deployment_id()  # real ids are d-XXXXXXXXX, not UUIDs

    __init__.__wrapped__ = original  # type: ignore[attr-defined]
    return __init__


def install() -> None:
    """Monkeypatch moto's CodeDeploy classes (called once by greenlight_twin.aws.server.install)."""
    response_cls = cd_responses.CodeDeployResponse
    # moto monkeypatch: operations moto lacks, found by name by BaseResponse.call_action.
    response_cls.get_deployment_target = _get_deployment_target  # type: ignore[attr-defined]
    response_cls.batch_get_deployment_targets = _batch_get_deployment_targets  # type: ignore[attr-defined]
    response_cls.list_deployment_targets = _list_deployment_targets  # type: ignore[attr-defined]
    response_cls.put_lifecycle_event_hook_execution_status = (  # type: ignore[attr-defined]
        _put_lifecycle_event_hook_execution_status
    )
    response_cls.stop_deployment = _stop_deployment  # type: ignore[attr-defined]
    # moto monkeypatch: the module-level serialisers get_deployment / get_deployment_group call.
    cd_responses._deployment_info = _wrap_deployment_info(cd_responses._deployment_info)
    cd_responses._deployment_group_info = _wrap_group_info(cd_responses._deployment_group_info)
    # moto monkeypatch: ECS groups default to the ECS deployment config; deployment ids look real.
    cd_models.CodeDeployBackend.create_deployment_group = _wrap_create_deployment_group(  # type: ignore[method-assign]
        cd_models.CodeDeployBackend.create_deployment_group
    )
    cd_models.DeploymentInfo.__init__ = _wrap_deployment_init(cd_models.DeploymentInfo.__init__)  # type: ignore[method-assign]
