"""The twin's load balancer in front of its world: built from the seeded world, and the source of target health.

The world (moto) and the load balancer (greenlight_twin.lb) describe the same thing: the listeners
moto lists get the load balancer's real ports, and DescribeTargetHealth answers from the load
balancer's own health checks, so what the hooks read is what the load balancer does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from greenlight_twin.config import SERVICE_CONNECT_TEST_HEADER, TwinConfig, TwinError

if TYPE_CHECKING:
    from greenlight_twin.aws import World
    from greenlight_twin.lb import HealthChange, LoadBalancer
    from greenlight_twin.services import ServiceSide

__all__ = ["TargetHealthAnswer", "start_load_balancer", "wait_healthy"]

# How long a side gets to pass the load balancer's health checks when the twin starts.
HEALTHY_TIMEOUT = 30.0
UNHEALTHY_GRACE = 10.0


def start_load_balancer(
    world: World,
    blue: ServiceSide,
    config: TwinConfig,
    *,
    elb: Any,
    cloudwatch_endpoint_url: str,
    on_health_change: Callable[[HealthChange], None],
) -> tuple[LoadBalancer, World]:
    """Starts the load balancer over blue's and the (empty) green target group; the world with its ports."""
    from greenlight_twin.lb import HealthCheck, ListenerConfig, LoadBalancer, TargetGroupConfig, arn_resource_id

    protocol = "TCP" if config.load_balancer == "network" else "HTTP"
    health = HealthCheck(
        protocol=protocol,
        path=config.health_path,
        interval=config.health_interval,
        timeout=min(config.health_interval, 2.0),
        healthy_threshold=config.healthy_threshold,
        unhealthy_threshold=config.unhealthy_threshold,
    )
    groups = [
        TargetGroupConfig(
            world.blue_tg_name,
            blue.targets,
            health,
            group_id=arn_resource_id(world.blue_tg_arn),
            deregistration_delay=config.deregistration_delay,
        ),
        TargetGroupConfig(
            world.green_tg_name,
            (),
            health,
            group_id=arn_resource_id(world.green_tg_arn),
            deregistration_delay=config.deregistration_delay,
        ),
    ]
    # CodeDeploy: each listener's default action forwards to one group; ECS native: weighted rules.
    if config.controller == "CODE_DEPLOY":
        weights = {world.blue_tg_name: 1}
    else:
        weights = {world.blue_tg_name: 100, world.green_tg_name: 0}
    lb = LoadBalancer(
        world.lb_name,
        lb_id=arn_resource_id(world.lb_arn),
        target_groups=groups,
        listeners=[
            ListenerConfig(
                "prod",
                weights,
                port=config.prod_port,
                protocol=protocol,
                # Service Connect: the client alias, where the test header's requests follow the test weights.
                header_route=(*SERVICE_CONNECT_TEST_HEADER, "test") if config.service_connect else None,
            ),
            ListenerConfig("test", weights, port=config.test_port, protocol=protocol),
        ],
        metrics_interval=config.metrics_interval,
        cloudwatch_endpoint_url=cloudwatch_endpoint_url,
        region=config.region,
        on_health_change=on_health_change,
    )
    lb.start()
    try:
        ports = {"prod": lb.port("prod"), "test": lb.port("test")}
        elb.modify_listener(ListenerArn=world.prod_listener_arn, Port=ports["prod"])
        elb.modify_listener(ListenerArn=world.test_listener_arn, Port=ports["test"])
    except BaseException:
        lb.stop()
        raise
    return lb, replace(world, prod_port=ports["prod"], test_port=ports["test"])


class TargetHealthAnswer:
    """DescribeTargetHealth's answer for one target: the load balancer's own view (a moto health provider)."""

    def __init__(self, lb: LoadBalancer, names: Mapping[str, str]) -> None:
        self.lb = lb
        self.names = dict(names)  # target group ARN -> name

    def __call__(self, tg_arn: str, target_id: str, port: int) -> tuple[str, str | None, str | None] | None:
        name = self.names.get(tg_arn)
        if name is None:
            return None
        view = self.lb.health_snapshot(name, [(target_id, port)])[0]
        return view.state, view.reason, view.description


def wait_healthy(lb: LoadBalancer, group: str, side: ServiceSide, *, health_path: str) -> None:
    """Waits until every target of `group` is healthy; TwinError with the tasks' logs if it does not happen."""
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    unhealthy_since: float | None = None
    while time.monotonic() < deadline:
        states = lb.health_snapshot(group)
        if states and all(s.state == "healthy" for s in states):
            return
        if any(not task.running for task in side):
            break
        # Judged unhealthy and still so after a while: a service that is slow to warm up recovers
        # within that, one whose health path is wrong never does.
        if states and all(s.state == "unhealthy" for s in states):
            unhealthy_since = unhealthy_since or time.monotonic()
            if time.monotonic() - unhealthy_since > UNHEALTHY_GRACE:
                break
        else:
            unhealthy_since = None
        time.sleep(0.1)
    described = ", ".join(f"{s.host}:{s.port} {s.state} ({s.reason})" for s in lb.health_snapshot(group))
    raise TwinError(
        f"{side.label} ({side.version}) did not become healthy in the load balancer: {described}; the health check "
        f"asks GET {health_path} for a 200 (another path: --health-path, TwinConfig.health_path)\n"
        + "\n".join(task.log_tail(6) for task in side)
    )
