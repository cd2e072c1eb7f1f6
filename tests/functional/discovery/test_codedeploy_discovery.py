"""CodeDeploy discovery against the twin's moto server on 127.0.0.1: what it finds, what it says when it cannot."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from greenlight.discovery.codedeploy import IAM_ACTIONS, CodeDeployDiscovery, discover, hook_already_completed
from greenlight.discovery.model import DiscoveryError
from greenlight_twin import aws as twin

# Each API discovery reads, as botocore names it in its events.
DISCOVERY_APIS = {
    "codedeploy.GetDeployment",
    "codedeploy.GetDeploymentGroup",
    "codedeploy.ListDeploymentTargets",
    "codedeploy.GetDeploymentTarget",
    "elastic-load-balancing-v2.DescribeListeners",
    "elastic-load-balancing-v2.DescribeLoadBalancers",
    "elastic-load-balancing-v2.DescribeTargetGroups",
    "ecs.DescribeTaskSets",
}


def _appspec(task_definition: str) -> dict[str, Any]:
    content = json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {"TargetService": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": task_definition}}}
            ],
        }
    )
    return {
        "revisionType": "AppSpecContent",
        "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
    }


def _deployment_without_test_route(session: Any, world: twin.World) -> str:
    """A second deployment group of the world's application whose target group pair has no test listener."""
    cd = session.client("codedeploy")
    cd.create_deployment_group(
        applicationName=world.application_name,
        deploymentGroupName="no-test-route",
        serviceRoleArn=f"arn:aws:iam::{world.account_id}:role/ecsCodeDeployRole",
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        loadBalancerInfo={
            "targetGroupPairInfoList": [
                {
                    "targetGroups": [{"name": world.blue_tg_name}, {"name": world.green_tg_name}],
                    "prodTrafficRoute": {"listenerArns": [world.prod_listener_arn]},
                }
            ]
        },
        ecsServices=[{"serviceName": world.service_name, "clusterName": world.cluster_name}],
    )
    deployment_id: str = cd.create_deployment(
        applicationName=world.application_name,
        deploymentGroupName="no-test-route",
        revision=_appspec(world.green_task_def_arn),
    )["deploymentId"]
    return deployment_id


def test_discovery_finds_green_blue_and_listener_urls(seed: Callable[..., twin.World], counted: Any) -> None:
    # GIVEN a CodeDeploy deployment at AfterAllowTestTraffic: 2 green tasks at weight 0, 1 blue at 100
    world = seed(
        lb_dns_name="my-alb.example.test",
        green_targets=[("10.0.2.10", 3000), ("10.0.2.11", 3000)],
    )

    # WHEN green is discovered from the deployment id alone
    deployment = discover(world.deployment_id or "", counted.aws)

    # THEN the listener URLs, both sides' target groups, counts, weights and task definitions are found
    assert deployment.controller == "CODE_DEPLOY"
    assert deployment.test_url == "http://my-alb.example.test:9080"
    assert deployment.prod_url == "http://my-alb.example.test:8080"
    assert (deployment.application, deployment.deployment_group) == (
        world.application_name,
        world.deployment_group_name,
    )
    assert (deployment.cluster, deployment.service, deployment.status) == (
        world.cluster_name,
        world.service_name,
        "InProgress",
    )
    assert deployment.load_balancer_arn == world.lb_arn
    assert deployment.load_balancer_dimension == world.lb_arn.split(":loadbalancer/")[1]
    green, blue = deployment.green, deployment.blue
    assert green is not None and blue is not None
    assert (green.target_group_arn, green.target_group_name) == (world.green_tg_arn, world.green_tg_name)
    assert (blue.target_group_arn, blue.target_group_name) == (world.blue_tg_arn, world.blue_tg_name)
    assert (green.task_set_id, blue.task_set_id) == (world.green_task_set_id, world.blue_task_set_id)
    assert (green.task_definition_arn, blue.task_definition_arn) == (
        world.green_task_def_arn,
        world.blue_task_def_arn,
    )
    assert (green.desired_count, green.running_count, green.traffic_weight) == (2, 2, 0.0)
    assert (blue.desired_count, blue.running_count, blue.traffic_weight) == (1, 1, 100.0)
    assert (green.container_name, green.container_port, green.target_group_protocol) == ("web", 3000, "HTTP")
    assert deployment.extra["load_balancer_scheme"] == "internet-facing"
    assert deployment.summary()["test_listener"]["url"] == "http://my-alb.example.test:9080"


def test_discovery_calls_each_api_at_most_once(seed: Callable[..., twin.World], counted: Any) -> None:
    # GIVEN a seeded deployment and clients that count calls
    world = seed()
    discovery = CodeDeployDiscovery(world.deployment_id or "", counted.aws)

    # WHEN the hook asks whether it already completed, then discovers, then discovers again
    assert hook_already_completed(world.deployment_id or "", "AfterAllowTestTraffic", discovery=discovery) is False
    first = discovery.discover()
    again = discovery.discover()

    # THEN every API was called exactly once, and nothing else was called
    assert first is again
    assert set(counted.calls) == DISCOVERY_APIS
    assert all(n == 1 for n in counted.calls.values()), dict(counted.calls)


def test_discovery_url_omits_default_port(seed: Callable[..., twin.World], counted: Any) -> None:
    # GIVEN a production listener on HTTP port 80
    world = seed(prod_port=80, test_port=8080, lb_dns_name="alb.example.test")

    # WHEN discovered
    deployment = discover(world.deployment_id or "", counted.aws)

    # THEN the default port is left out of the URL, the other one kept
    assert deployment.prod_url == "http://alb.example.test"
    assert deployment.test_url == "http://alb.example.test:8080"


def test_discovery_without_test_listener_names_what_to_set(
    seed: Callable[..., twin.World], session: Any, counted: Any
) -> None:
    # GIVEN a deployment group whose target group pair has no testTrafficRoute
    world = seed()
    deployment_id = _deployment_without_test_route(session, world)

    # WHEN discovery needs the test listener
    with pytest.raises(DiscoveryError) as caught:
        discover(deployment_id, counted.aws)

    # THEN the error names the deployment and both ways out
    message = str(caught.value)
    assert f"deployment {deployment_id} ({world.application_name}/no-test-route) has no test listener" in message
    assert "set testTrafficRoute in the deployment group" in message
    assert "or target.test_url in the spec" in message


def test_discovery_without_test_listener_is_fine_when_not_needed(
    seed: Callable[..., twin.World], session: Any, counted: Any
) -> None:
    # GIVEN the same deployment group without a test route
    world = seed()
    deployment_id = _deployment_without_test_route(session, world)
    twin.set_ecs_target(
        deployment_id,
        cluster=world.cluster_name,
        service=world.service_name,
        task_sets=[
            twin.EcsTaskSet(world.blue_task_set_id or "", "Blue", world.blue_tg_name, traffic_weight=100.0),
            twin.EcsTaskSet(world.green_task_set_id or "", "Green", world.green_tg_name),
        ],
    )

    # WHEN no check needs the test listener (only the production one)
    deployment = discover(deployment_id, counted.aws, require=("prod",))

    # THEN green is still found and there is simply no test URL
    assert deployment.test_url is None
    assert deployment.prod_url == world.prod_url
    assert deployment.green is not None and deployment.green.target_group_arn == world.green_tg_arn


def test_discovery_of_a_server_deployment_says_it_is_not_ecs(session: Any, counted: Any) -> None:
    # GIVEN a deployment of an EC2/on-premises (Server) application
    cd = session.client("codedeploy")
    cd.create_application(applicationName="legacy", computePlatform="Server")
    cd.create_deployment_group(
        applicationName="legacy",
        deploymentGroupName="fleet",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
    )
    deployment_id = cd.create_deployment(
        applicationName="legacy",
        deploymentGroupName="fleet",
        revision={"revisionType": "S3", "s3Location": {"bucket": "b", "key": "app.zip", "bundleType": "zip"}},
    )["deploymentId"]

    # WHEN discovered
    with pytest.raises(DiscoveryError) as caught:
        discover(deployment_id, counted.aws)

    # THEN the error says what kind it is and what greenlight validates
    message = str(caught.value)
    assert f"deployment {deployment_id} (legacy/fleet) is a Server deployment" in message
    assert "Amazon ECS blue/green deployments (compute platform ECS)" in message


def test_discovery_of_a_missing_deployment_names_it(session: Any, counted: Any) -> None:
    # GIVEN a deployment id that does not exist
    # WHEN discovered
    with pytest.raises(DiscoveryError) as caught:
        discover("d-AAAAAAAAA", counted.aws)

    # THEN the error names the id and the region it looked in
    message = str(caught.value)
    assert "deployment d-AAAAAAAAA does not exist in region us-east-1" in message
    assert "check the deployment id" in message


@pytest.mark.parametrize("action", IAM_ACTIONS)
def test_discovery_access_denied_names_the_iam_action(
    action: str, seed: Callable[..., twin.World], counted: Any
) -> None:
    # GIVEN a deployment, and a role that may not call one of the APIs discovery reads
    world = seed()
    twin.deny(action)

    # WHEN discovered
    with pytest.raises(DiscoveryError) as caught:
        discover(world.deployment_id or "", counted.aws)

    # THEN the error names the deployment and exactly which IAM action to allow
    message = str(caught.value)
    assert f"deployment {world.deployment_id}" in message
    assert f"access denied to {action}; allow {action}" in message


def test_discovery_before_install_infers_green_target_group(seed: Callable[..., twin.World], counted: Any) -> None:
    # GIVEN a deployment at BeforeInstall: only the original (blue) task set exists
    world = seed()
    twin.set_ecs_target(
        world.deployment_id or "",
        cluster=world.cluster_name,
        service=world.service_name,
        task_sets=[twin.EcsTaskSet(world.blue_task_set_id or "", "Blue", world.blue_tg_name, traffic_weight=100.0)],
    )

    # WHEN discovered
    deployment = discover(world.deployment_id or "", counted.aws)

    # THEN green's target group is the pair's other one, and green has no task set yet
    assert deployment.green is not None
    assert deployment.green.target_group_arn == world.green_tg_arn
    assert deployment.green.task_set_id is None
    assert "green_inferred" in deployment.extra
    assert counted.calls["ecs.DescribeTaskSets"] == 1  # blue's task set only


@pytest.mark.parametrize(("status", "completed"), [("InProgress", False), ("Succeeded", True), ("Failed", True)])
def test_hook_already_completed_reads_the_lifecycle_event(
    status: str, completed: bool, seed: Callable[..., twin.World], counted: Any
) -> None:
    # GIVEN the deployment's AfterAllowTestTraffic lifecycle event in a given status
    world = seed()
    twin.set_lifecycle_event(world.deployment_id or "", "AfterAllowTestTraffic", status)

    # WHEN asked whether that hook already completed
    answer = hook_already_completed(world.deployment_id or "", "AfterAllowTestTraffic", aws=counted.aws)

    # THEN only a finished event counts, and only GetDeploymentTarget (plus the target listing) was read
    assert answer is completed
    assert dict(counted.calls) == {"codedeploy.ListDeploymentTargets": 1, "codedeploy.GetDeploymentTarget": 1}
