"""Settings of the twin's load balancer: health checks, target groups and listeners, validated up front.

Defaults follow an Application Load Balancer where the twin has no reason to differ; every problem
names the setting (and the group or listener) it is about.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from greenlight_twin.lb.errors import ConfigError, WeightsError

# ALB load balancer and target group names: 1-32 letters, digits and hyphens, no hyphen at either end.
_AWS_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
_RESOURCE_ID = re.compile(r"^[A-Za-z0-9]+$")
_MATCHER_PART = re.compile(r"^(\d{3})(?:-(\d{3}))?$")
MAX_WEIGHT = 999  # ALB's largest forward weight
PROTOCOLS = ("HTTP", "TCP")  # HTTP: an Application Load Balancer's listener or check; TCP: a Network Load Balancer's

Target = tuple[str, int]


def check_aws_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _AWS_NAME.match(name):
        raise ConfigError(
            f"{kind} name {name!r} is not valid: use 1-32 letters, digits or hyphens, "
            "not starting or ending with a hyphen"
        )
    return name


def check_resource_id(kind: str, value: object) -> str:
    if not isinstance(value, str) or not _RESOURCE_ID.match(value):
        raise ConfigError(f"{kind} id {value!r} is not valid: expected the last part of its ARN (letters and digits)")
    return value


def default_resource_id(kind: str, name: str) -> str:
    """A stable 16-hex-digit id for callers that have no ARN to take one from."""
    return hashlib.sha256(f"{kind}/{name}".encode()).hexdigest()[:16]


def arn_resource_id(arn: str) -> str:
    """The id at the end of a load balancer or target group ARN (`.../app/name/<id>`)."""
    resource_id = arn.rsplit("/", 1)[-1]
    return check_resource_id("ARN", resource_id)


def check_target(where: str, target: object) -> Target:
    """A (host, port) pair on the loopback interface: the twin never sends traffic anywhere else."""
    if not isinstance(target, tuple | list) or len(target) != 2:
        raise ConfigError(f"{where}: target {target!r} must be a (host, port) pair")
    host, port = target
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{where}: target {target!r} has no host")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ConfigError(
                f"{where}: target host {host!r} is not on the loopback interface "
                "(the twin only sends traffic to 127.0.0.1/localhost)"
            )
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"{where}: target {target!r} has port {port!r}, expected 1-65535")
    return (host, port)


def parse_matcher(matcher: str) -> tuple[tuple[int, int], ...]:
    """ALB's success codes: "200", "200-299" or "200,204" (and mixes such as "200,300-399")."""
    if not isinstance(matcher, str) or not matcher.strip():
        raise ConfigError(f"health check matcher {matcher!r} is empty: use e.g. '200' or '200-299'")
    ranges = []
    for raw in matcher.split(","):
        part = raw.strip()
        found = _MATCHER_PART.match(part)
        if not found:
            raise ConfigError(
                f"health check matcher {matcher!r}: {part!r} is not a code or a range "
                "(use e.g. '200', '200-299', '200,204')"
            )
        low = int(found.group(1))
        high = int(found.group(2) or low)
        if not 100 <= low <= high <= 599:
            raise ConfigError(f"health check matcher {matcher!r}: {part!r} is not within 100-599, low to high")
        ranges.append((low, high))
    return tuple(ranges)


@dataclass(frozen=True)
class HealthCheck:
    """How a target group checks its targets (the HealthCheck* settings of an ALB, or an NLB's TCP check).

    A TCP check passes when the connection opens (ELBv2 HealthCheckProtocol TCP); `path` and `matcher` are then
    not used.
    """

    path: str = "/health"
    interval: float = 5.0
    timeout: float | None = None  # None: the smaller of 5 s (ALB's default) and the interval
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    matcher: str = "200"
    port: int | None = None  # None: the target's traffic port
    protocol: str = "HTTP"  # or "TCP"
    _ranges: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ConfigError(f"health check path {self.path!r} must start with '/'")
        if not _positive(self.interval):
            raise ConfigError(f"health check interval {self.interval!r} must be a number of seconds > 0")
        if self.timeout is not None and not _positive(self.timeout):
            raise ConfigError(f"health check timeout {self.timeout!r} must be a number of seconds > 0")
        for name in ("healthy_threshold", "unhealthy_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
                raise ConfigError(f"health check {name} {value!r} must be an integer from 1 to 10")
        if self.port is not None and (
            isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535
        ):
            raise ConfigError(f"health check port {self.port!r} must be 1-65535 or None (the traffic port)")
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"health check protocol {self.protocol!r} must be one of {', '.join(PROTOCOLS)}")
        object.__setattr__(self, "_ranges", parse_matcher(self.matcher))

    @property
    def effective_timeout(self) -> float:
        return self.timeout if self.timeout is not None else min(5.0, self.interval)

    def matches(self, status: int) -> bool:
        return any(low <= status <= high for low, high in self._ranges)


@dataclass(frozen=True)
class TargetGroupConfig:
    """One target group: its name, the id from its ARN (for the TargetGroup dimension), its targets."""

    name: str
    targets: Sequence[Target] = ()
    health_check: HealthCheck = field(default_factory=HealthCheck)
    group_id: str | None = None  # None: derived from the name (the twin passes the id from moto's ARN)
    deregistration_delay: float = 300.0  # ALB's default; a target with no request in flight leaves at once

    def __post_init__(self) -> None:
        check_aws_name("target group", self.name)
        if self.group_id is not None:
            check_resource_id(f"target group {self.name!r}", self.group_id)
        if not isinstance(self.health_check, HealthCheck):
            raise ConfigError(f"target group {self.name!r}: health_check must be a HealthCheck")
        if not isinstance(self.deregistration_delay, int | float) or self.deregistration_delay < 0:
            raise ConfigError(
                f"target group {self.name!r}: deregistration_delay {self.deregistration_delay!r} "
                "must be a number of seconds >= 0"
            )
        targets = tuple(check_target(f"target group {self.name!r}", t) for t in self.targets)
        object.__setattr__(self, "targets", targets)

    @property
    def resource_id(self) -> str:
        return self.group_id or default_resource_id("targetgroup", self.name)


@dataclass(frozen=True)
class ListenerConfig:
    """One listener on 127.0.0.1: its default action forwards to target groups by weight.

    HTTP forwards each request (ALB); TCP forwards each connection, bytes as they are (NLB). `header_route`
    (header name, exact value, listener name) sends the requests that carry that header by the other listener's
    weights, as ECS Service Connect routes test traffic by a header (testTrafficRules).
    """

    name: str
    weights: Mapping[str, int]  # e.g. {"blue": 90, "green": 10}; {"blue": 1} forwards to one group
    port: int = 0  # 0: any free port (read it back with LoadBalancer.port(name))
    protocol: str = "HTTP"  # or "TCP"
    header_route: tuple[str, str, str] | None = None

    def __post_init__(self) -> None:
        if self.header_route is not None and (self.protocol != "HTTP" or len(self.header_route) != 3):
            raise ConfigError(f"listener {self.name!r}: header_route is (header, value, listener), on HTTP only")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"listener name {self.name!r} must be a non-empty string")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"listener {self.name!r}: port {self.port!r} must be 0-65535 (0: any free port)")
        if self.protocol not in PROTOCOLS:
            raise ConfigError(
                f"listener {self.name!r}: protocol {self.protocol!r} must be one of {', '.join(PROTOCOLS)}"
            )
        object.__setattr__(self, "weights", dict(self.weights))


def check_weights(listener: str, weights: Mapping[str, int], groups: Sequence[str]) -> dict[str, int]:
    """Forward weights as ALB takes them: integers 0-999, known groups, at least one above zero."""
    where = f"listener {listener!r}"
    if not isinstance(weights, Mapping) or not weights:
        raise WeightsError(f"{where}: weights must name at least one target group, got {weights!r}")
    unknown = sorted(str(name) for name in weights if name not in groups)
    if unknown:
        raise WeightsError(f"{where}: unknown target group(s) {', '.join(unknown)}; known: {', '.join(groups)}")
    checked: dict[str, int] = {}
    for name, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise WeightsError(f"{where}: weight of {name!r} is {weight!r}, expected an integer 0-{MAX_WEIGHT}")
        if weight < 0:
            raise WeightsError(f"{where}: weight of {name!r} is negative ({weight})")
        if weight > MAX_WEIGHT:
            raise WeightsError(f"{where}: weight of {name!r} is {weight}, above ALB's maximum {MAX_WEIGHT}")
        checked[name] = weight
    if not any(checked.values()):
        raise WeightsError(f"{where}: all weights are zero ({checked}); at least one group must get traffic")
    return checked


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
