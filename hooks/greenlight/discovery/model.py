"""What discovery finds: the green and blue sides, their target groups and the listener URLs.

Both controllers' discovery return the same `Deployment`, so checks never ask who deployed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class DiscoveryError(Exception):
    """Green could not be found; the message names the deployment and what to set or allow."""


@dataclass(frozen=True)
class Side:
    """One side (BLUE or GREEN) of a blue/green deployment."""

    label: str
    target_group_arn: str | None = None
    target_group_name: str | None = None
    task_set_id: str | None = None  # CodeDeploy: the task set; ECS native: None
    service_revision_arn: str | None = None  # ECS native
    task_definition_arn: str | None = None
    desired_count: int | None = None
    running_count: int | None = None
    pending_count: int | None = None
    status: str | None = None
    traffic_weight: float | None = None
    target_group_protocol: str | None = None  # HTTP/HTTPS: how per-target probes talk to the targets
    container_name: str | None = None  # the container the load balancer sends traffic to
    container_port: int | None = None


@dataclass(frozen=True)
class ListenerInfo:
    arn: str
    port: int
    protocol: str
    url: str


@dataclass(frozen=True)
class Deployment:
    """Where green is, for the checks (target health, metrics, per-target probes, identity)."""

    controller: str  # "CODE_DEPLOY" or "ECS"
    deployment_id: str | None = None
    application: str | None = None
    deployment_group: str | None = None
    cluster: str | None = None
    service: str | None = None
    green: Side | None = None
    blue: Side | None = None
    load_balancer_arn: str | None = None
    load_balancer_dns: str | None = None
    test_listener: ListenerInfo | None = None
    prod_listener: ListenerInfo | None = None
    status: str | None = None  # the deployment's own status (CodeDeploy: InProgress, Succeeded, ...)
    extra: dict[str, Any] = field(default_factory=dict)
    # Headers that make a request test traffic: an ECS Service Connect revision's testTrafficRules header
    # (name -> exact value). Probes of the test listener send them.
    test_headers: dict[str, str] = field(default_factory=dict)

    def side(self, label: str) -> Side | None:
        """The GREEN or BLUE side (any case), or None when discovery found none."""
        return {"GREEN": self.green, "BLUE": self.blue}.get(label.upper())

    def describe(self) -> str:
        """A short name of the deployment for messages: 'deployment d-123 (app/group)'."""
        if self.deployment_id:
            group = f" ({self.application}/{self.deployment_group})" if self.application else ""
            return f"deployment {self.deployment_id}{group}"
        if self.service:
            return f"service {self.service}" + (f" in cluster {self.cluster}" if self.cluster else "")
        return "the deployment"

    @property
    def test_url(self) -> str | None:
        return self.test_listener.url if self.test_listener else None

    @property
    def prod_url(self) -> str | None:
        return self.prod_listener.url if self.prod_listener else None

    @property
    def load_balancer_dimension(self) -> str | None:
        """`app/<name>/<id>`, the CloudWatch `LoadBalancer` dimension, from the ARN."""
        if not self.load_balancer_arn or ":loadbalancer/" not in self.load_balancer_arn:
            return None
        return self.load_balancer_arn.split(":loadbalancer/", 1)[1]

    @staticmethod
    def target_group_dimension(arn: str | None) -> str | None:
        """`targetgroup/<name>/<id>`, the CloudWatch `TargetGroup` dimension, from the ARN."""
        if not arn or ":targetgroup/" not in arn:
            return None
        return "targetgroup/" + arn.split(":targetgroup/", 1)[1]

    def summary(self) -> dict[str, Any]:
        """What was discovered, for the report and the logs."""
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, [])}
