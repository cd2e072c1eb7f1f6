"""A Network Load Balancer world on the twin, read by greenlight's discovery under both controllers.

For an NLB, ECS puts the listener ARNs themselves in advancedConfiguration.productionListenerRule /
testListenerRule (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/nlb-resources-for-blue-green.html);
an NLB's ARNs say `net/` (loadbalancer/net/NAME/ID, listener/net/NAME/ID/LID: the ELBv2 API reference's
examples, https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from greenlight.discovery import codedeploy as codedeploy_discovery
from greenlight.discovery import ecs as ecs_discovery
from greenlight.discovery.elbv2 import is_listener_arn, listener_arn_of
from greenlight.discovery.model import DiscoveryError
from greenlight_twin import aws as twin_aws


class _Clients:
    """What discovery asks of its AWS: `client(service)`, here boto3 clients of the twin."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def client(self, service: str) -> Any:
        return self.session.client(service)


def test_nlb_world_has_network_arns_and_tcp_listeners(
    aws_session: Any, client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN an ECS native world behind a Network Load Balancer
    world = twin_aws.seed_bluegreen(
        aws_session, name=unique_name("nlb"), controller="ECS", load_balancer="network", lb_dns_name="127.0.0.1"
    )
    elb = client("elbv2")

    # WHEN its load balancer, listeners and target groups are read back
    lb = elb.describe_load_balancers(LoadBalancerArns=[world.lb_arn])["LoadBalancers"][0]
    listeners = elb.describe_listeners(LoadBalancerArn=world.lb_arn)["Listeners"]
    groups = elb.describe_target_groups(TargetGroupArns=[world.blue_tg_arn, world.green_tg_arn])["TargetGroups"]

    # THEN they are an NLB's: net/ ARNs, TCP everywhere, the weights on the listeners' default actions
    assert lb["Type"] == "network" and ":loadbalancer/net/" in world.lb_arn
    assert all(":listener/net/" in item["ListenerArn"] and item["Protocol"] == "TCP" for item in listeners)
    assert {(g["Protocol"], g["HealthCheckProtocol"]) for g in groups} == {("TCP", "TCP")}
    assert world.prod_rule_arn == world.prod_listener_arn and world.test_rule_arn == world.test_listener_arn
    test_listener = next(item for item in listeners if item["ListenerArn"] == world.test_listener_arn)
    forward = test_listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    assert {g["TargetGroupArn"]: g["Weight"] for g in forward} == {world.blue_tg_arn: 0, world.green_tg_arn: 100}


def test_listener_arn_of_accepts_listener_and_rule_arns() -> None:
    head = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
    listener = f"{head}:listener/net/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
    rule = f"{head}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
    assert is_listener_arn(listener) and not is_listener_arn(rule)
    assert listener_arn_of(listener) == listener
    assert listener_arn_of(rule).endswith(":listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2")
    with pytest.raises(DiscoveryError, match="not a listener rule ARN"):
        listener_arn_of("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/50dc6c495c0c9188")


def test_ecs_discovery_nlb_listener_arns_give_tcp_listener_urls(
    aws_session: Any, unique_name: Callable[[str], str]
) -> None:
    # GIVEN an ECS native deployment at POST_TEST_TRAFFIC_SHIFT behind an NLB (listener ARNs, not rule ARNs)
    world = twin_aws.seed_bluegreen(
        aws_session,
        name=unique_name("nlbe"),
        controller="ECS",
        load_balancer="network",
        lb_dns_name="127.0.0.1",
        prod_port=18181,
        test_port=19191,
    )
    assert world.green_revision_arn

    # WHEN discovery reads it
    found = ecs_discovery.EcsDiscovery(
        service_deployment_arn=world.service_deployment_arn,
        service_arn=world.service_arn,
        target_revision_arn=world.green_revision_arn,
        aws=_Clients(aws_session),
    ).discover(require=("test", "prod"))

    # THEN the listeners are the NLB's, probed as plain HTTP on their ports, and green is the alternate group
    assert found.test_listener is not None and found.prod_listener is not None
    assert (found.test_listener.protocol, found.test_url) == ("TCP", "http://127.0.0.1:19191")
    assert found.prod_url == "http://127.0.0.1:18181"
    assert found.green is not None and found.green.target_group_arn == world.green_tg_arn
    assert found.green.target_group_protocol == "TCP"
    assert found.extra["test_rule_weights"] == {world.green_tg_name: 100.0, world.blue_tg_name: 0.0}
    assert found.load_balancer_dimension is not None and found.load_balancer_dimension.startswith("net/")


def test_codedeploy_discovery_nlb(aws_session: Any, unique_name: Callable[[str], str]) -> None:
    # GIVEN a CodeDeploy deployment at AfterAllowTestTraffic behind an NLB
    world = twin_aws.seed_bluegreen(
        aws_session, name=unique_name("nlbc"), load_balancer="network", lb_dns_name="127.0.0.1", test_port=19292
    )
    assert world.deployment_id

    # WHEN discovery reads it
    found = codedeploy_discovery.discover(world.deployment_id, _Clients(aws_session), require=("test", "prod"))

    # THEN the test listener is the NLB's TCP listener, probed as plain HTTP
    assert found.test_listener is not None and found.test_listener.protocol == "TCP"
    assert found.test_url == "http://127.0.0.1:19292"
    assert found.green is not None and found.green.target_group_name == world.green_tg_name
