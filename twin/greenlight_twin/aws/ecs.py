"""ECS in the twin: Fargate task sets, service revisions and service deployments, and their backdoors.

What `install()` changes in moto 5 (by monkeypatching its ECS backend and response classes):

- CreateTaskSet with a scale crashed for Fargate task definitions, twice: their containers carry no
  memory of their own (it lives on the task), and moto summed container memory and hit None; and the
  awsvpc task's network interface has no private DNS name in a VPC without DNS hostnames (the
  default for a new VPC), which moto read anyway.
- Task sets had no computedDesiredCount / runningCount / pendingCount; they now follow the service's
  desired count and the task set's scale, until a backdoor pins them (`set_task_set_state`).
- CreateService dropped deploymentConfiguration (strategy, lifecycleHooks, bakeTimeInMinutes).
- ECS native blue/green APIs were missing: DescribeServiceRevisions, DescribeServiceDeployments and
  ListServiceDeployments now answer from revisions and deployments registered with the backdoors
  `register_service_revision`, `start_service_deployment` and `update_service_deployment`
  (moto does not run deployments, so nothing creates them by itself).
- PAUSE lifecycle hooks: `pause_at_hook` adds a hook awaiting action to a service deployment's
  `lifecycleHookDetails`; ContinueServiceDeployment (botocore ecs model: serviceDeploymentArn, hookId,
  action CONTINUE|ROLLBACK) resolves it, and `hook_action` reads what it was told.
"""

from __future__ import annotations

import math
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models import elastic_network_interfaces as ec2_enis
from moto.ecs import models as ecs_models
from moto.ecs import responses as ecs_responses

from greenlight_twin.aws._util import UnknownResourceError, arn_parts, choice, enum, non_negative

_lock = threading.RLock()


# --- state kept on moto's backend --------------------------------------------------------------------


@dataclass
class _State:
    revisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    revision_serial: int = 0


def _state(backend: Any) -> _State:
    # Kept on the backend object: moto's reset replaces the backend's __dict__, and this with it.
    with _lock:
        state = backend.__dict__.get("_greenlight")
        if state is None:
            state = backend.__dict__["_greenlight"] = _State()
        return state


def _backend_for(arn: str, what: str) -> Any:
    _, region, account, _ = arn_parts(arn, what)
    return ecs_models.ecs_backends[account][region]


def _service(service_arn: str) -> tuple[Any, Any]:
    """(backend, service) for a service ARN (long format: service/CLUSTER/NAME)."""
    backend = _backend_for(service_arn, "service ARN")
    resource = arn_parts(service_arn, "service ARN")[3]
    parts = resource.split("/")
    if parts[0] != "service" or len(parts) not in (2, 3):
        raise ValueError(f"service ARN {service_arn!r} does not name a service")
    name = parts[-1]
    for key, service in backend.services.items():
        if service.name == name and (len(parts) == 2 or key.split(":", 1)[0] == parts[1]):
            return backend, service
    raise UnknownResourceError(f"no ECS service {service_arn!r} in the twin")


# --- task sets ---------------------------------------------------------------------------------------


def _find_task_set(task_set_arn: str) -> Any:
    backend = _backend_for(task_set_arn, "task set ARN")
    for service in list(backend.services.values()):
        for task_set in service.task_sets:
            if task_set.task_set_arn == task_set_arn:
                return task_set
    raise UnknownResourceError(f"no ECS task set {task_set_arn!r} in the twin")


def set_task_set_state(
    task_set_arn: str,
    *,
    running_count: int | None = None,
    pending_count: int | None = None,
    stability_status: str | None = None,
    computed_desired_count: int | None = None,
) -> None:
    """Set what DescribeTaskSets reports for a task set; counts set here no longer follow its scale."""
    task_set = _find_task_set(task_set_arn)
    now = utcnow()
    with _lock:
        if running_count is not None:
            task_set.running_count = non_negative(running_count, "running_count")
            task_set._greenlight_pinned = True
        if pending_count is not None:
            task_set.pending_count = non_negative(pending_count, "pending_count")
            task_set._greenlight_pinned = True
        if computed_desired_count is not None:
            task_set.computed_desired_count = non_negative(computed_desired_count, "computed_desired_count")
            task_set._greenlight_pinned = True
        if stability_status is not None:
            task_set.stabilityStatus = choice(stability_status, enum("ecs", "StabilityStatus"), "stability status")
            task_set.stabilityStatusAt = now
        task_set.updatedAt = now


def _follow_scale(backend: Any, task_set: Any) -> None:
    """Counts as a settled task set has them: the scale's share of the service's desired count."""
    if getattr(task_set, "_greenlight_pinned", False):
        return
    service = next((s for s in backend.services.values() if s.arn == task_set.service_arn), None)
    desired = service.desired_count if service is not None else 0
    scale = task_set.scale or {}
    share = float(scale.get("value", 100.0)) / 100.0 if scale.get("unit", "PERCENT") == "PERCENT" else 1.0
    count = math.ceil(desired * share)
    task_set.computed_desired_count = count
    task_set.running_count = count
    task_set.pending_count = 0


def _wrap_task_set_init(original: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.computed_desired_count = 0
        self.running_count = 0
        self.pending_count = 0
        self.platform_family = "Linux" if self.launch_type == "FARGATE" else None

    __init__.__wrapped__ = original  # type: ignore[attr-defined]
    return __init__


def _wrap_create_task_set(original: Any) -> Any:
    def create_task_set(self: Any, *args: Any, **kwargs: Any) -> Any:
        task_set = original(self, *args, **kwargs)
        service = next((s for s in self.services.values() if s.arn == task_set.service_arn), None)
        if service is not None and service.deployment_controller.get("type") == "CODE_DEPLOY":
            task_set.started_by = "CodeDeploy"
        with _lock:
            _follow_scale(self, task_set)
        return task_set

    create_task_set.__wrapped__ = original  # type: ignore[attr-defined]
    return create_task_set


def _wrap_update_task_set(original: Any) -> Any:
    def update_task_set(self: Any, *args: Any, **kwargs: Any) -> Any:
        task_set = original(self, *args, **kwargs)
        with _lock:
            task_set.updatedAt = utcnow()
            _follow_scale(self, task_set)
        return task_set

    update_task_set.__wrapped__ = original  # type: ignore[attr-defined]
    return update_task_set


def _wrap_resource_requirements(original: Any) -> Any:
    def calculate(task_definition: Any) -> dict[str, Any]:
        containers = []
        for container in task_definition.container_definitions:
            keys = ("memory", "memoryReservation", "Memory", "MemoryReservation")
            if all(container.get(key) is None for key in keys):
                # Fargate: memory is set on the task, not the container; it takes no instance memory.
                container = {**container, "memory": 0}
            containers.append(container)
        return original(SimpleNamespace(container_definitions=containers))

    calculate.__wrapped__ = original  # type: ignore[attr-defined]
    return staticmethod(calculate)


# --- services ----------------------------------------------------------------------------------------


def set_service_counts(service_arn: str, *, running_count: int, pending_count: int = 0) -> None:
    """Set what DescribeServices reports as the service's runningCount/pendingCount.

    moto starts every service with all its tasks pending (or MOTO_ECS_SERVICE_RUNNING of them running).
    """
    _, service = _service(service_arn)
    with _lock:
        service.running_count = non_negative(running_count, "running_count")
        service.pending_count = non_negative(pending_count, "pending_count")


def _wrap_create_service_response(original: Any) -> Any:
    def create_service(self: Any) -> Any:
        result = original(self)
        service = result.result["service"]
        configuration = self._get_param("deploymentConfiguration")
        if configuration:
            service.deployment_configuration = configuration
        grace = self._get_param("healthCheckGracePeriodSeconds")
        if grace is not None:
            service.health_check_grace_period_seconds = grace
        return result

    create_service.__wrapped__ = original  # type: ignore[attr-defined]
    return create_service


# --- service revisions and deployments (ECS native blue/green) ----------------------------------------


@dataclass(frozen=True)
class RevisionSummary:
    """One revision's entry in a service deployment (sourceServiceRevisions / targetServiceRevision)."""

    arn: str
    requested_task_count: int | None = None  # None: the service's desired count
    running_task_count: int | None = None  # None: the requested count
    pending_task_count: int = 0
    requested_test_traffic_weight: float | None = None
    requested_production_traffic_weight: float | None = None

    def to_api(self, desired: int) -> dict[str, Any]:
        requested = desired if self.requested_task_count is None else self.requested_task_count
        item: dict[str, Any] = {
            "arn": self.arn,
            "requestedTaskCount": requested,
            "runningTaskCount": requested if self.running_task_count is None else self.running_task_count,
            "pendingTaskCount": self.pending_task_count,
        }
        if self.requested_test_traffic_weight is not None:
            item["requestedTestTrafficWeight"] = float(self.requested_test_traffic_weight)
        if self.requested_production_traffic_weight is not None:
            item["requestedProductionTrafficWeight"] = float(self.requested_production_traffic_weight)
        return item


def register_service_revision(
    service_arn: str,
    *,
    task_definition: str | None = None,
    load_balancers: list[dict[str, Any]] | None = None,
    resolved_load_balancers: list[dict[str, Any]] | None = None,
    launch_type: str | None = None,
    network_configuration: dict[str, Any] | None = None,
    container_images: list[dict[str, Any]] | None = None,
    service_connect_configuration: dict[str, Any] | None = None,
) -> str:
    """Add a service revision (what DescribeServiceRevisions answers); returns its ARN.

    Anything not given is taken from the service as it is now. `load_balancers` uses the
    CreateService shape (with advancedConfiguration); `resolved_load_balancers` is the revision's
    resolvedConfiguration.loadBalancers ([{targetGroupArn, productionListenerRule}]: for the
    green revision, the target group it runs in); by default it is derived from `load_balancers`.
    """
    backend, service = _service(service_arn)
    task_definition = task_definition or service.task_definition
    if not task_definition:
        raise ValueError(f"service {service_arn!r} has no task definition: pass task_definition=")
    task_def = backend.describe_task_definition(task_definition)
    balancers = [dict(lb) for lb in (load_balancers if load_balancers is not None else service.load_balancers)]
    resolved = resolved_load_balancers
    if resolved is None:
        resolved = []
        for lb in balancers:
            item = {"targetGroupArn": lb.get("targetGroupArn")}
            rule = (lb.get("advancedConfiguration") or {}).get("productionListenerRule")
            if rule:
                item["productionListenerRule"] = rule
            resolved.append(item)
    images = container_images
    if images is None:
        images = [
            {"containerName": c.get("name"), "image": c.get("image"), "imageDigest": _digest(c.get("image"))}
            for c in task_def.container_definitions
        ]
    now = utcnow()
    with _lock:
        state = _state(backend)
        state.revision_serial += 1
        # Real revision ids are long decimal numbers; a serial keeps them ordered by creation.
        revision_id = f"{int(now.timestamp() * 1000)}{state.revision_serial:06d}"
        arn = (
            f"arn:aws:ecs:{backend.region_name}:{backend.account_id}:service-revision/"
            f"{service.cluster_name}/{service.name}/{revision_id}"
        )
        revision: dict[str, Any] = {
            "serviceRevisionArn": arn,
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "taskDefinition": task_def.arn,
            "launchType": launch_type or service.launch_type,
            "platformVersion": service.platform_version or "LATEST",
            "platformFamily": "Linux",
            "loadBalancers": balancers,
            "containerImages": images,
            "guardDutyEnabled": False,
            "createdAt": now,
            "resolvedConfiguration": {"loadBalancers": resolved},
        }
        network = network_configuration or service.network_configuration
        if network:
            revision["networkConfiguration"] = network
        if service_connect_configuration is not None:
            revision["serviceConnectConfiguration"] = service_connect_configuration
        state.revisions[arn] = revision
    return arn


def _digest(image: str | None) -> str:
    # A stable fake digest per image name, so the same image reads the same in every revision.
    import hashlib

    return "sha256:" + hashlib.sha256((image or "").encode()).hexdigest()


def start_service_deployment(
    service_arn: str,
    *,
    target_revision: RevisionSummary | str,
    source_revisions: list[RevisionSummary | str] | None = None,
    status: str = "IN_PROGRESS",
    lifecycle_stage: str | None = "RECONCILE_SERVICE",
    status_reason: str | None = None,
    deployment_configuration: dict[str, Any] | None = None,
) -> str:
    """Add a service deployment from `source_revisions` to `target_revision`; returns its ARN.

    The service then names it as currentServiceDeployment, and the revisions as its
    currentServiceRevisions. `deployment_configuration` is merged over the service's (e.g. the
    deployment's strategy and linearConfiguration). No source revision: the service's first deployment.
    """
    backend, service = _service(service_arn)
    target = _summary(target_revision)
    sources = [_summary(s) for s in (source_revisions or [])]
    with _lock:
        state = _state(backend)
        for summary in [target, *sources]:
            if summary.arn not in state.revisions:
                raise UnknownResourceError(f"no service revision {summary.arn!r}: register it first")
        now = utcnow()
        deployment_id = secrets.token_hex(11)[:21]
        arn = (
            f"arn:aws:ecs:{backend.region_name}:{backend.account_id}:service-deployment/"
            f"{service.cluster_name}/{service.name}/{deployment_id}"
        )
        deployment: dict[str, Any] = {
            "serviceDeploymentArn": arn,
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "createdAt": now,
            "updatedAt": now,
            "_target": target,
            "_sources": sources,
            "deploymentConfiguration": {
                **(getattr(service, "deployment_configuration", None) or {}),
                **(deployment_configuration or {}),
            },
        }
        state.deployments[arn] = deployment
        _apply(deployment, status=status, lifecycle_stage=lifecycle_stage, status_reason=status_reason, now=now)
        service.current_service_deployment = arn
        _refresh_current_revisions(service, deployment)
    return arn


def update_service_deployment(
    deployment_arn: str,
    *,
    status: str | None = None,
    lifecycle_stage: str | None = None,
    status_reason: str | None = None,
    target_revision: RevisionSummary | None = None,
    source_revisions: list[RevisionSummary] | None = None,
    rollback: dict[str, Any] | None = None,
    lifecycle_hook_details: list[dict[str, Any]] | None = None,
) -> None:
    """Move a service deployment on: its status, lifecycle stage, its revisions' counts and weights, or the
    hooks it is running (`lifecycleHookDetails`: hookId, targetType, targetArn, status, expiresAt, timeoutAction).

    `rollback` is the deployment's Rollback ({reason, startedAt, serviceRevisionArn}: the revision it rolls
    back to), as DescribeServiceDeployments shows it once a rollback has started.
    """
    backend = _backend_for(deployment_arn, "service deployment ARN")
    with _lock:
        deployment = _state(backend).deployments.get(deployment_arn)
        if deployment is None:
            raise UnknownResourceError(f"no service deployment {deployment_arn!r} in the twin")
        if target_revision is not None:
            deployment["_target"] = target_revision
        if source_revisions is not None:
            deployment["_sources"] = list(source_revisions)
        if rollback is not None:
            deployment["rollback"] = {"startedAt": utcnow(), **rollback}
        if lifecycle_hook_details is not None:
            deployment["lifecycleHookDetails"] = [dict(d) for d in lifecycle_hook_details]
        _apply(deployment, status=status, lifecycle_stage=lifecycle_stage, status_reason=status_reason, now=utcnow())
        _, service = _service(deployment["serviceArn"])
        _refresh_current_revisions(service, deployment)


def _summary(value: RevisionSummary | str) -> RevisionSummary:
    if isinstance(value, RevisionSummary):
        return value
    if isinstance(value, str):
        return RevisionSummary(value)
    raise TypeError(f"expected a RevisionSummary or a service revision ARN, got {value!r}")


def _apply(
    deployment: dict[str, Any],
    *,
    status: str | None,
    lifecycle_stage: str | None,
    status_reason: str | None,
    now: datetime,
) -> None:
    if status is not None:
        status = choice(status, enum("ecs", "ServiceDeploymentStatus"), "service deployment status")
        deployment["status"] = status
        if status != "PENDING":
            deployment.setdefault("startedAt", now)
        if status in ("SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"):
            deployment["finishedAt"] = now
        if status == "STOPPED":
            deployment["stoppedAt"] = now
    if lifecycle_stage is not None:
        deployment["lifecycleStage"] = choice(
            lifecycle_stage, enum("ecs", "ServiceDeploymentLifecycleStage"), "lifecycle stage"
        )
    if status_reason is not None:
        deployment["statusReason"] = status_reason
    deployment["updatedAt"] = now


def _refresh_current_revisions(service: Any, deployment: dict[str, Any]) -> None:
    desired = service.desired_count
    summaries = [deployment["_target"], *deployment["_sources"]]
    service.current_service_revisions = [
        {
            k: v
            for k, v in s.to_api(desired).items()
            if k in ("arn", "requestedTaskCount", "runningTaskCount", "pendingTaskCount")
        }
        for s in summaries
    ]


def _deployment_to_api(backend: Any, deployment: dict[str, Any]) -> dict[str, Any]:
    _, service = _service(deployment["serviceArn"])
    desired = service.desired_count
    item = {k: v for k, v in deployment.items() if not k.startswith("_")}
    if "lifecycleHookDetails" in item:
        item["lifecycleHookDetails"] = [
            {k: v for k, v in hook.items() if not k.startswith("_")} for hook in item["lifecycleHookDetails"]
        ]
    item["targetServiceRevision"] = deployment["_target"].to_api(desired)
    item["sourceServiceRevisions"] = [s.to_api(desired) for s in deployment["_sources"]]
    return item


def _failure(arn: str) -> dict[str, str]:
    return {"arn": arn, "reason": "MISSING"}


def _describe_service_revisions(self: Any) -> ActionResult:
    arns = self._get_param("serviceRevisionArns") or []
    with _lock:
        revisions = _state(self.ecs_backend).revisions
        found = [dict(revisions[a]) for a in arns if a in revisions]
        failures = [_failure(a) for a in arns if a not in revisions]
    return ActionResult({"serviceRevisions": found, "failures": failures})


def _describe_service_deployments(self: Any) -> ActionResult:
    arns = self._get_param("serviceDeploymentArns") or []
    with _lock:
        deployments = _state(self.ecs_backend).deployments
        found = [_deployment_to_api(self.ecs_backend, deployments[a]) for a in arns if a in deployments]
        failures = [_failure(a) for a in arns if a not in deployments]
    return ActionResult({"serviceDeployments": found, "failures": failures})


def _list_service_deployments(self: Any) -> ActionResult:
    cluster = self._get_param("cluster", "default")
    service_name = str(self._get_param("service") or "").split("/")[-1]
    statuses = self._get_param("status") or []
    service = self.ecs_backend._get_service(cluster, service_name)  # raises ServiceNotFound / ClusterNotFound
    with _lock:
        chosen = [
            d
            for d in _state(self.ecs_backend).deployments.values()
            if d["serviceArn"] == service.arn and (not statuses or d.get("status") in statuses)
        ]
    chosen.sort(key=lambda d: d["createdAt"], reverse=True)  # newest first, as ECS lists them
    brief = [
        {
            key: value
            for key, value in {
                "serviceDeploymentArn": d["serviceDeploymentArn"],
                "serviceArn": d["serviceArn"],
                "clusterArn": d["clusterArn"],
                "startedAt": d.get("startedAt"),
                "createdAt": d["createdAt"],
                "finishedAt": d.get("finishedAt"),
                "targetServiceRevisionArn": d["_target"].arn,
                "status": d.get("status"),
                "statusReason": d.get("statusReason"),
            }.items()
            if value is not None
        }
        for d in chosen
    ]
    return ActionResult({"serviceDeployments": brief})


# --- PAUSE lifecycle hooks ----------------------------------------------------------------------------


class _InvalidParameterException(ServiceException):
    code = "InvalidParameterException"


class _ServiceDeploymentNotFoundException(ServiceException):
    code = "ServiceDeploymentNotFoundException"


def pause_at_hook(deployment_arn: str, *, timeout_seconds: float = 1440 * 60, timeout_action: str = "ROLLBACK") -> str:
    """Pause a service deployment at a PAUSE hook awaiting action; returns the hook's id.

    `expiresAt` is `timeout_seconds` from now (AWS counts timeoutInMinutes; the twin plays seconds).
    """
    backend = _backend_for(deployment_arn, "service deployment ARN")
    action = choice(timeout_action, enum("ecs", "DeploymentLifecycleHookAction"), "timeout action")
    hook_id = "ecs-pause-" + secrets.token_urlsafe(32)
    with _lock:
        deployment = _state(backend).deployments.get(deployment_arn)
        if deployment is None:
            raise UnknownResourceError(f"no service deployment {deployment_arn!r} in the twin")
        now = utcnow()
        deployment.setdefault("lifecycleHookDetails", []).append(
            {
                "hookId": hook_id,
                "targetType": "PAUSE",
                "status": "AWAITING_ACTION",
                "expiresAt": datetime.fromtimestamp(now.timestamp() + timeout_seconds, tz=now.tzinfo),
                "timeoutAction": action,
            }
        )
        deployment["updatedAt"] = now
    return hook_id


def _hook(deployment: dict[str, Any], hook_id: str) -> dict[str, Any] | None:
    return next((h for h in deployment.get("lifecycleHookDetails") or [] if h.get("hookId") == hook_id), None)


def hook_action(deployment_arn: str, hook_id: str) -> str | None:
    """The action ContinueServiceDeployment gave the hook (or its timeout took), None while it awaits one."""
    backend = _backend_for(deployment_arn, "service deployment ARN")
    with _lock:
        deployment = _state(backend).deployments.get(deployment_arn) or {}
        hook = _hook(deployment, hook_id)
        return None if hook is None else hook.get("_action")


def expire_hook(deployment_arn: str, hook_id: str) -> str:
    """The hook's timeout came: it takes its timeoutAction (TIMED_OUT); returns that action."""
    backend = _backend_for(deployment_arn, "service deployment ARN")
    with _lock:
        hook = _hook(_state(backend).deployments.get(deployment_arn) or {}, hook_id)
        if hook is None:
            raise UnknownResourceError(f"no hook {hook_id!r} on {deployment_arn!r}")
        if hook["status"] == "AWAITING_ACTION":
            hook["status"], hook["_action"] = "TIMED_OUT", hook["timeoutAction"]
        return str(hook["_action"])


def _continue_service_deployment(self: Any) -> ActionResult:
    arn = self._get_param("serviceDeploymentArn")
    hook_id = self._get_param("hookId")
    action = self._get_param("action") or "CONTINUE"
    if action not in enum("ecs", "DeploymentLifecycleHookAction"):
        raise _InvalidParameterException(f"action {action!r} is not CONTINUE or ROLLBACK")
    with _lock:
        deployment = _state(self.ecs_backend).deployments.get(arn)
        if deployment is None:
            raise _ServiceDeploymentNotFoundException(f"service deployment {arn} not found")
        hook = _hook(deployment, hook_id)
        if hook is None or hook.get("targetType") != "PAUSE":
            raise _InvalidParameterException(f"no PAUSE hook {hook_id} on {arn}")
        if hook["status"] != "AWAITING_ACTION":
            raise _InvalidParameterException(f"hook {hook_id} is {hook['status']}, not AWAITING_ACTION")
        hook["status"] = "SUCCEEDED" if action == "CONTINUE" else "FAILED"
        hook["_action"] = action
        deployment["updatedAt"] = utcnow()
    return ActionResult({"serviceDeploymentArn": arn})


def install() -> None:
    """Monkeypatch moto's ECS classes (called once by greenlight_twin.aws.server.install)."""
    backend_cls = ecs_models.EC2ContainerServiceBackend
    # moto monkeypatch: Fargate containers have no memory of their own; moto's sum crashed on None.
    backend_cls._calculate_task_resource_requirements = _wrap_resource_requirements(  # type: ignore[method-assign]
        backend_cls.__dict__["_calculate_task_resource_requirements"].__func__
    )
    # moto monkeypatch: ECS tasks read eni.private_dns_name, which moto only sets with DNS hostnames on.
    eni_cls: Any = ec2_enis.NetworkInterface
    if not hasattr(eni_cls, "private_dns_name"):
        eni_cls.private_dns_name = None
    # moto monkeypatch: task sets report computedDesiredCount/runningCount/pendingCount.
    ecs_models.TaskSet.__init__ = _wrap_task_set_init(ecs_models.TaskSet.__init__)  # type: ignore[method-assign]
    backend_cls.create_task_set = _wrap_create_task_set(backend_cls.create_task_set)  # type: ignore[method-assign]
    backend_cls.update_task_set = _wrap_update_task_set(backend_cls.update_task_set)  # type: ignore[method-assign]
    response_cls = ecs_responses.EC2ContainerServiceResponse
    # moto monkeypatch: keep deploymentConfiguration / healthCheckGracePeriodSeconds from CreateService.
    response_cls.create_service = _wrap_create_service_response(response_cls.create_service)  # type: ignore[method-assign]
    # moto monkeypatch: ECS native blue/green read APIs moto lacks, found by name by call_action.
    response_cls.describe_service_revisions = _describe_service_revisions  # type: ignore[attr-defined]
    response_cls.describe_service_deployments = _describe_service_deployments  # type: ignore[attr-defined]
    response_cls.list_service_deployments = _list_service_deployments  # type: ignore[attr-defined]
    response_cls.continue_service_deployment = _continue_service_deployment  # type: ignore[attr-defined]
