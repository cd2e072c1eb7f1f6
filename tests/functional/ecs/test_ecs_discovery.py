"""ECS native discovery against the twin: green's target group, listeners and revisions, and clear errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from greenlight.discovery.ecs import IAM_ACTIONS, EcsDiscovery
from greenlight.discovery.model import DiscoveryError
from greenlight.handlers.ecs import handle
from greenlight.reporting.ecs import FAILED, SUCCEEDED, validate_response
from greenlight.reporting.ecs_state import STATE_KEY
from greenlight_twin import aws as twin


def _discovery(ecs_world: Any, **overrides: Any) -> EcsDiscovery:
    w = ecs_world.world
    args: dict[str, Any] = {
        "service_deployment_arn": w.service_deployment_arn,
        "service_arn": w.service_arn,
        "target_revision_arn": w.green_revision_arn,
        "test_weights": {w.blue_revision_arn: 0.0, w.green_revision_arn: 100.0},
        "production_weights": {w.blue_revision_arn: 100.0, w.green_revision_arn: 0.0},
        "aws": ecs_world.aws,
    }
    args.update(overrides)
    return EcsDiscovery(**args)


def test_ecs_discovery_happy_path(ecs_world: Any) -> None:
    # GIVEN an ECS blue/green deployment at POST_TEST_TRAFFIC_SHIFT on the twin
    w = ecs_world.world
    # WHEN green is discovered from the event's ARNs
    discovery = _discovery(ecs_world)
    d = discovery.discover(require=("test", "prod"))
    # THEN green is the target revision in the green target group, blue the source revision
    assert d.controller == "ECS" and d.cluster == w.cluster_name and d.service == w.service_name
    assert d.green is not None and d.blue is not None
    assert (d.green.service_revision_arn, d.green.target_group_arn) == (w.green_revision_arn, w.green_tg_arn)
    assert (d.blue.service_revision_arn, d.blue.target_group_arn) == (w.blue_revision_arn, w.blue_tg_arn)
    assert d.green.target_group_name == w.green_tg_name and d.green.target_group_protocol == "HTTP"
    assert d.green.task_definition_arn == w.green_task_def_arn and d.blue.task_definition_arn == w.blue_task_def_arn
    assert (d.green.container_name, d.green.container_port) == (w.container_name, w.container_port)
    assert (d.green.traffic_weight, d.blue.traffic_weight) == (0.0, 100.0)
    assert d.green.desired_count == d.green.running_count == len(w.green_targets)
    # AND the listener URLs lead through the listener rules to the load balancer
    assert d.test_url == f"http://127.0.0.1:{ecs_world.test.port}"
    assert d.prod_url == f"http://127.0.0.1:{ecs_world.prod.port}"
    assert d.load_balancer_arn == w.lb_arn and d.status == "IN_PROGRESS"
    assert d.extra["test_rule_weights"] == {w.green_tg_name: 100.0, w.blue_tg_name: 0.0}
    assert d.extra["strategy"] == "BLUE_GREEN" and d.extra["service_deployment_arn"] == w.service_deployment_arn
    # AND each API was called once
    assert dict(ecs_world.calls) == {
        "ecs.DescribeServiceDeployments": 1,
        "ecs.DescribeServiceRevisions": 1,
        "elastic-load-balancing-v2.DescribeRules": 1,
        "elastic-load-balancing-v2.DescribeListeners": 1,
        "elastic-load-balancing-v2.DescribeLoadBalancers": 1,
        "elastic-load-balancing-v2.DescribeTargetGroups": 1,
    }
    # AND asking the same object again calls nothing more
    before = ecs_world.calls.copy()
    assert discovery.discover(require=("test",)) is d
    assert ecs_world.calls == before


def test_ecs_discovery_green_without_resolved_configuration(ecs_world: Any) -> None:
    # GIVEN revisions without resolvedConfiguration (blue still names its target group, green not)
    w = ecs_world.world
    service = ecs_world.session.client("ecs").describe_services(cluster=w.cluster_name, services=[w.service_name])
    balancers = service["services"][0]["loadBalancers"]
    blue = twin.register_service_revision(
        w.service_arn,
        task_definition=w.blue_task_def_arn,
        load_balancers=balancers,
        resolved_load_balancers=[{"targetGroupArn": w.green_tg_arn}],
    )
    green = twin.register_service_revision(
        w.service_arn, task_definition=w.green_task_def_arn, load_balancers=balancers, resolved_load_balancers=[]
    )
    arn = twin.start_service_deployment(w.service_arn, target_revision=green, source_revisions=[blue])
    # WHEN green is discovered
    d = _discovery(ecs_world, service_deployment_arn=arn, target_revision_arn=green, production_weights={}).discover()
    # THEN green is the pair's target group blue does not use, and the inference is recorded
    assert d.green is not None and d.blue is not None
    assert d.green.target_group_arn == w.blue_tg_arn and d.blue.target_group_arn == w.green_tg_arn
    assert "blue does not use" in d.extra["green_inferred"]


@pytest.mark.parametrize("action", ["ecs:DescribeServiceRevisions", "elasticloadbalancing:DescribeRules"])
def test_ecs_discovery_denied_action_is_named(ecs_world: Any, action: str) -> None:
    # GIVEN the hook's role lacks one action discovery needs
    assert action in IAM_ACTIONS
    twin.deny(action)
    # WHEN green is discovered
    with pytest.raises(DiscoveryError) as caught:
        _discovery(ecs_world).discover()
    # THEN the error names the service and the action to allow
    message = str(caught.value)
    assert f"access denied to {action}" in message and f"allow {action}" in message
    assert ecs_world.world.service_name in message


def test_ecs_discovery_denied_action_fails_the_hook_with_reason(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any]
) -> None:
    # GIVEN a spec that needs the discovered test listener, and ecs:DescribeServiceRevisions denied
    twin.deny("ecs:DescribeServiceRevisions")
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [{"name": "home", "http": {"path": "/"}}]})
    # WHEN the hook runs
    out = handle(ecs_world.event(), lambda_context(), aws=ecs_world.aws, env=env)
    # THEN FAILED, and the reason in hookDetails names the action; nothing was probed
    validate_response(out)
    assert out["hookStatus"] == FAILED
    reason = out["hookDetails"][STATE_KEY]["reason"]
    assert reason.startswith("DiscoveryError") and "ecs:DescribeServiceRevisions" in reason
    assert ecs_world.test.requests == []


def test_ecs_discovery_not_needed_when_urls_are_given(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any]
) -> None:
    # GIVEN a spec with its own test URL (nothing to discover), and every ECS API denied
    twin.deny("ecs:*")
    env = spec_env(
        {"POST_TEST_TRAFFIC_SHIFT": [{"name": "home", "http": {"path": "/"}}]}, target={"test_url": ecs_world.test.url}
    )
    # WHEN the hook runs
    out = handle(ecs_world.event(), lambda_context(), aws=ecs_world.aws, env=env)
    # THEN it validates anyway, judging first deployment and rollback from the event
    validate_response(out)
    assert out["hookStatus"] == SUCCEEDED and len(ecs_world.test.requests) == 1
    assert "elastic-load-balancing-v2.DescribeRules" not in ecs_world.calls


def test_ecs_discovery_unknown_service_deployment(ecs_world: Any) -> None:
    # GIVEN an event naming a service deployment that does not exist
    w = ecs_world.world
    missing = w.service_deployment_arn.rsplit("/", 1)[0] + "/doesnotexist00000000"
    # WHEN green is discovered
    with pytest.raises(DiscoveryError) as caught:
        _discovery(ecs_world, service_deployment_arn=missing).discover()
    # THEN the error names it and says where to look
    assert missing in str(caught.value) and "account and region" in str(caught.value)


def test_ecs_discovery_missing_test_listener_rule(ecs_world: Any) -> None:
    # GIVEN a target revision whose load balancer has no testListenerRule
    w = ecs_world.world
    service = ecs_world.session.client("ecs").describe_services(cluster=w.cluster_name, services=[w.service_name])
    balancers = service["services"][0]["loadBalancers"]
    for lb in balancers:
        lb["advancedConfiguration"].pop("testListenerRule", None)
    green = twin.register_service_revision(
        w.service_arn, task_definition=w.green_task_def_arn, load_balancers=balancers
    )
    arn = twin.start_service_deployment(w.service_arn, target_revision=green, source_revisions=[w.blue_revision_arn])
    # WHEN green is discovered and the test listener is required
    with pytest.raises(DiscoveryError) as caught:
        _discovery(ecs_world, service_deployment_arn=arn, target_revision_arn=green).discover(require=("test",))
    # THEN the error names the missing setting and the alternative
    assert "advancedConfiguration.testListenerRule" in str(caught.value)
    assert "target.test_url" in str(caught.value)
