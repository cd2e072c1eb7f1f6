"""ELBv2 in the twin: target health other than "healthy", a settable DNS name, and a moto fix.

moto reports every registered target as healthy. `install()` monkeypatches moto's target group so
DescribeTargetHealth answers, in this order: a state set with `set_target_health`, else what the
provider given to `set_target_health_provider` says (so a live load balancer can feed real health),
else moto's own answer. `set_load_balancer_dns_name` lets the twin point a load balancer's DNSName at
127.0.0.1. moto also lists a load balancer twice in a target group's LoadBalancerArns when a listener
and a rule both forward to the group; the patch keeps that list unique. And moto keeps a group's
targets by Id alone, so two IP targets on one address with different ports (two tasks on 127.0.0.1)
overwrote each other; as on AWS, they are now two targets: RegisterTargets, DeregisterTargets and
DescribeTargetHealth work per (Id, Port). moto names every load balancer `loadbalancer/app/...`; a Network
Load Balancer's ARN is `loadbalancer/net/...` in AWS (and its listeners' `listener/net/...`), and now here too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from moto.elbv2 import models as elbv2_models
from moto.elbv2.exceptions import InvalidTargetError

from greenlight_twin.aws._util import UnknownResourceError, arn_parts, backends, choice, enum

HealthAnswer = tuple[str, str | None, str | None]
HealthProvider = Callable[[str, str, int], HealthAnswer | None]

log = logging.getLogger(__name__)

# What AWS writes for each reason, so a state set without a description still reads like the real one.
DEFAULT_DESCRIPTIONS = {
    "Elb.RegistrationInProgress": "Target registration is in progress",
    "Elb.InitialHealthChecking": "Initial health checks in progress",
    "Target.ResponseCodeMismatch": "Health checks failed with these codes: [502]",
    "Target.Timeout": "Request timed out",
    "Target.FailedHealthChecks": "Health checks failed",
    "Target.NotRegistered": "Target is not registered to the target group",
    "Target.NotInUse": "Target group is not configured to receive traffic from the load balancer",
    "Target.DeregistrationInProgress": "Target deregistration is in progress",
    "Target.InvalidState": "Target is in the stopped state",
    "Target.IpUnusable": "The IP address cannot be used as a target, as it is in use by a load balancer",
    "Target.HealthCheckDisabled": "Health checks are disabled",
    "Elb.InternalError": "Health checks failed due to an internal error",
}

_lock = threading.RLock()
_provider: HealthProvider | None = None


def _target_group(tg_arn: str) -> Any:
    _, region, account, _ = arn_parts(tg_arn, "target group ARN")
    backend = elbv2_models.elbv2_backends[account][region]
    group = backend.target_groups.get(tg_arn)
    if group is None:
        raise UnknownResourceError(f"no target group {tg_arn!r} in the twin")
    return group


def _overrides(group: Any) -> dict[tuple[str, int | None], HealthAnswer]:
    # Kept on moto's target group object, so deleting the group or resetting moto forgets them.
    with _lock:
        found = group.__dict__.get("_greenlight_health")
        if found is None:
            found = group.__dict__["_greenlight_health"] = {}
        return found


def _checked(state: str, reason: str | None, description: str | None) -> HealthAnswer:
    state = choice(state, enum("elbv2", "TargetHealthStateEnum"), "target health state")
    if reason is not None:
        reason = choice(reason, enum("elbv2", "TargetHealthReasonEnum"), "target health reason")
    if description is None and reason is not None:
        description = DEFAULT_DESCRIPTIONS.get(reason)
    return state, reason, description


def set_target_health(
    tg_arn: str,
    target_id: str,
    port: int | None,
    state: str,
    reason: str | None = None,
    description: str | None = None,
) -> None:
    """Make DescribeTargetHealth report `state` (initial, healthy, unhealthy, ...) for one target.

    `port` None applies to the target on any port. `reason` is one of AWS's reason codes
    (e.g. Target.ResponseCodeMismatch); without a description, AWS's usual text for it is used.
    """
    group = _target_group(tg_arn)
    answer = _checked(state, reason, description)
    with _lock:
        _overrides(group)[(str(target_id), None if port is None else int(port))] = answer


def clear_target_health(tg_arn: str | None = None) -> None:
    """Forget states set with set_target_health (for one target group, or all)."""
    groups = [_target_group(tg_arn)] if tg_arn else _all_groups()
    with _lock:
        for group in groups:
            _overrides(group).clear()


def _all_groups() -> list[Any]:
    return [g for backend in backends(elbv2_models.elbv2_backends) for g in list(backend.target_groups.values())]


def set_target_health_provider(provider: HealthProvider | None) -> None:
    """Ask `provider(tg_arn, target_id, port)` for targets without a set state; None removes it.

    It returns (state, reason, description), or None to leave the target to moto (healthy). It runs
    on the server's request thread, once per target per DescribeTargetHealth call.
    """
    global _provider
    if provider is not None and not callable(provider):
        raise TypeError(f"health provider must be callable or None, got {provider!r}")
    with _lock:
        _provider = provider


def set_load_balancer_dns_name(lb_arn: str, dns_name: str) -> None:
    """Make DescribeLoadBalancers report `dns_name` as the load balancer's DNSName."""
    if not dns_name or not isinstance(dns_name, str):
        raise ValueError(f"dns_name must be a non-empty string, got {dns_name!r}")
    _, region, account, _ = arn_parts(lb_arn, "load balancer ARN")
    backend = elbv2_models.elbv2_backends[account][region]
    balancer = backend.load_balancers.get(lb_arn)
    if balancer is None:
        raise UnknownResourceError(f"no load balancer {lb_arn!r} in the twin")
    balancer.dns_name = dns_name


def _wrap_health_for(original: Any) -> Any:
    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        status = original(self, target, ec2_backend)
        if target["Id"] not in self.targets:
            return status  # not registered: moto's unused/unavailable answer is the real one
        port = int(status.port)
        with _lock:
            overrides = _overrides(self)
            answer = overrides.get((str(target["Id"]), port)) or overrides.get((str(target["Id"]), None))
            provider = _provider
        if answer is None and provider is not None:
            try:
                provided = provider(self.arn, str(target["Id"]), port)
                answer = None if provided is None else _checked(*provided)
            except Exception as exc:  # a broken provider must not break the API: report it as AWS would
                log.warning("target health provider failed for %s %s:%s: %s", self.arn, target["Id"], port, exc)
                answer = ("unavailable", "Elb.InternalError", f"health provider failed: {exc}")
        if answer is not None:
            status.status, status.reason, status.description = answer
        return status

    health_for.__wrapped__ = original  # type: ignore[attr-defined]
    return health_for


class _UniqueList(list[str]):
    """A list whose append skips values already in it."""

    def append(self, value: str) -> None:
        if value not in self:
            super().append(value)


def _wrap_target_group_init(original: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.load_balancer_arns = _UniqueList(self.load_balancer_arns)

    __init__.__wrapped__ = original  # type: ignore[attr-defined]
    return __init__


# --- targets by (Id, Port) ---------------------------------------------------------------------------


def _table(group: Any) -> dict[tuple[str, int], dict[str, Any]]:
    # Kept on moto's target group object, like the overrides; moto's own `targets` (by Id) stays in step.
    with _lock:
        table: dict[tuple[str, int], dict[str, Any]] | None = group.__dict__.get("_greenlight_targets")
        if table is None:
            table = {(str(t["Id"]), int(t["Port"])): dict(t) for t in group.targets.values()}
            group.__dict__["_greenlight_targets"] = table
        return table


def _key(group: Any, target: dict[str, Any]) -> tuple[str, int]:
    return str(target["Id"]), int(target.get("Port") or group.port)


def _wrap_register(original: Any) -> Any:
    def register(self: Any, targets: list[dict[str, Any]]) -> None:
        original(self, targets)
        with _lock:
            table = _table(self)
            for target in targets:
                key = _key(self, target)
                table[key] = {"Id": key[0], "Port": key[1]}

    register.__wrapped__ = original  # type: ignore[attr-defined]
    return register


def _wrap_deregister(original: Any) -> Any:
    def deregister(self: Any, targets: list[dict[str, Any]]) -> None:
        with _lock:
            table = _table(self)
            keys = [_key(self, t) for t in targets]
            if any(key not in table for key in keys):
                raise InvalidTargetError()
            for key in keys:
                self.deregistered_targets[key[0]] = table.pop(key)
            # moto's table (by Id) keeps one entry per address that still has a target.
            self.targets.clear()
            for (target_id, _port), target in table.items():
                self.targets[target_id] = dict(target)

    deregister.__wrapped__ = original  # type: ignore[attr-defined]
    return deregister


def _wrap_health_base(original: Any) -> Any:
    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        key = _key(self, target)
        table = _table(self)
        if key in table:
            return elbv2_models.FakeHealthStatus(key[0], str(key[1]), self.health_check_port, "healthy")
        if key[0] in self.targets:  # the address is registered, on another port only
            return elbv2_models.FakeHealthStatus(
                key[0], str(key[1]), self.health_check_port, "unused", "Target.NotRegistered",
                DEFAULT_DESCRIPTIONS["Target.NotRegistered"],
            )  # fmt: skip
        return original(self, target, ec2_backend)

    health_for.__wrapped__ = original  # type: ignore[attr-defined]
    return health_for


def _wrap_describe_target_health(original: Any) -> Any:
    def describe_target_health(self: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> Any:
        group = self.target_groups.get(target_group_arn)
        if group is not None and not targets:
            with _lock:
                targets = [dict(t) for t in _table(group).values()]
            if not targets:
                return []
        return original(self, target_group_arn, targets)

    describe_target_health.__wrapped__ = original  # type: ignore[attr-defined]
    return describe_target_health


_creating = threading.local()  # the type of the load balancer being created, for its ARN


def _wrap_create_load_balancer(original: Any) -> Any:
    def create_load_balancer(self: Any, *args: Any, **kwargs: Any) -> Any:
        _creating.kind = kwargs.get("loadbalancer_type")
        try:
            return original(self, *args, **kwargs)
        finally:
            _creating.kind = None

    create_load_balancer.__wrapped__ = original  # type: ignore[attr-defined]
    return create_load_balancer


def _wrap_load_balancer_arn(original: Any) -> Any:
    # AWS: arn:...:loadbalancer/app/NAME/ID for an ALB, loadbalancer/net/NAME/ID for an NLB, gwy/ for a GWLB.
    prefixes = {"network": "/net/", "gateway": "/gwy/"}

    def make_arn_for_load_balancer(*args: Any, **kwargs: Any) -> str:
        arn: str = original(*args, **kwargs)
        prefix = prefixes.get(getattr(_creating, "kind", None) or "")
        return arn.replace(":loadbalancer/app/", f":loadbalancer{prefix}", 1) if prefix else arn

    make_arn_for_load_balancer.__wrapped__ = original  # type: ignore[attr-defined]
    return make_arn_for_load_balancer


def install() -> None:
    """Monkeypatch moto's ELBv2 target group (called once by greenlight_twin.aws.server.install)."""
    group_cls = elbv2_models.FakeTargetGroup
    # moto monkeypatch: targets by (Id, Port), as AWS keeps them.
    group_cls.register = _wrap_register(group_cls.register)  # type: ignore[method-assign]
    group_cls.deregister = _wrap_deregister(group_cls.deregister)  # type: ignore[method-assign]
    backend_cls = elbv2_models.ELBv2Backend
    backend_cls.describe_target_health = _wrap_describe_target_health(  # type: ignore[method-assign]
        backend_cls.describe_target_health
    )
    # moto monkeypatch: DescribeTargetHealth builds its answer from FakeTargetGroup.health_for: per (Id, Port),
    # then the states set here and the provider.
    group_cls.health_for = _wrap_health_for(_wrap_health_base(group_cls.health_for))  # type: ignore[method-assign]
    # moto monkeypatch: keep LoadBalancerArns free of duplicates.
    group_cls.__init__ = _wrap_target_group_init(group_cls.__init__)  # type: ignore[method-assign]
    # moto monkeypatch: a Network Load Balancer's ARN says net/, not app/.
    backend_cls.create_load_balancer = _wrap_create_load_balancer(backend_cls.create_load_balancer)  # type: ignore[method-assign]
    elbv2_models.make_arn_for_load_balancer = _wrap_load_balancer_arn(elbv2_models.make_arn_for_load_balancer)
