"""seed_bluegreen on the twin: a consistent blue/green world, read back through the AWS APIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from greenlight_twin import aws as twin_aws


def test_codedeploy_world_listeners_and_target_groups_agree_with_the_deployment(
    aws_session: Any, client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN a seeded CodeDeploy world on non-default ports, two green targets, the DNS name on loopback
    world = twin_aws.seed_bluegreen(
        aws_session,
        name=unique_name("wcd"),
        region="us-east-1",
        prod_port=18080,
        test_port=19080,
        green_targets=[("10.0.2.10", 3000), ("10.0.2.11", 3000)],
        lb_dns_name="127.0.0.1",
    )
    codedeploy, elb, ecs = client("codedeploy"), client("elbv2"), client("ecs")

    # WHEN discovery's reads are made: deployment -> group -> listeners; target -> green task set -> TG
    deployment = codedeploy.get_deployment(deploymentId=world.deployment_id)["deploymentInfo"]
    group = codedeploy.get_deployment_group(
        applicationName=deployment["applicationName"], deploymentGroupName=deployment["deploymentGroupName"]
    )["deploymentGroupInfo"]
    pair = group["loadBalancerInfo"]["targetGroupPairInfoList"][0]
    listeners = {
        route: elb.describe_listeners(ListenerArns=pair[route]["listenerArns"])["Listeners"][0]
        for route in ("prodTrafficRoute", "testTrafficRoute")
    }
    target = codedeploy.get_deployment_target(
        deploymentId=world.deployment_id, targetId=f"{world.cluster_name}:{world.service_name}"
    )["deploymentTarget"]["ecsTarget"]
    green_info = next(ts for ts in target["taskSetsInfo"] if ts["taskSetLabel"] == "Green")
    green_task_set = ecs.describe_task_sets(
        cluster=world.cluster_name, service=world.service_name, taskSets=[green_info["identifer"]]
    )["taskSets"][0]
    green_tg = elb.describe_target_groups(TargetGroupArns=[green_task_set["loadBalancers"][0]["targetGroupArn"]])[
        "TargetGroups"
    ][0]
    balancer = elb.describe_load_balancers(LoadBalancerArns=[world.lb_arn])["LoadBalancers"][0]

    # THEN they agree with each other and with the World
    assert deployment["status"] == "InProgress"
    assert deployment["computePlatform"] == "ECS"
    assert listeners["prodTrafficRoute"]["Port"] == 18080
    assert listeners["testTrafficRoute"]["Port"] == 19080
    assert listeners["testTrafficRoute"]["ListenerArn"] == world.test_listener_arn
    assert listeners["testTrafficRoute"]["DefaultActions"][0]["TargetGroupArn"] == world.green_tg_arn
    assert listeners["prodTrafficRoute"]["DefaultActions"][0]["TargetGroupArn"] == world.blue_tg_arn
    assert green_tg["TargetGroupName"] == green_info["targetGroup"]["name"] == world.green_tg_name
    assert green_tg["TargetGroupName"] in [tg["name"] for tg in pair["targetGroups"]]
    assert green_tg["HealthCheckPath"] == "/health"
    assert green_task_set["taskDefinition"] == world.green_task_def_arn
    assert (green_info["desiredCount"], green_info["runningCount"]) == (2, 2)
    assert balancer["DNSName"] == "127.0.0.1" == world.lb_dns_name
    assert balancer["Scheme"] == "internet-facing"
    assert world.test_url == "http://127.0.0.1:19080"
    registered = elb.describe_target_health(TargetGroupArn=world.green_tg_arn)["TargetHealthDescriptions"]
    assert sorted((d["Target"]["Id"], d["Target"]["Port"]) for d in registered) == list(world.green_targets)
    # ... and the hook execution is open for AfterAllowTestTraffic
    execution = twin_aws.hook_execution(world.hook_execution_id or "")
    assert (execution.lifecycle_event_name, execution.status) == ("AfterAllowTestTraffic", None)
    assert [h.execution_id for h in twin_aws.hook_executions(world.deployment_id or "")] == [world.hook_execution_id]


def test_codedeploy_world_task_definitions_carry_the_versions(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN the seeded world
    ecs = client("ecs")

    # WHEN both task definitions are read
    for arn, version in (
        (codedeploy_world.blue_task_def_arn, "1.0.0"),
        (codedeploy_world.green_task_def_arn, "2.0.0"),
    ):
        task_def = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]

        # THEN each runs container web from example/app:<version> on 3000 with APP_VERSION=<version>
        container = task_def["containerDefinitions"][0]
        assert container["name"] == "web"
        assert container["image"] == f"example/app:{version}"
        assert container["portMappings"][0]["containerPort"] == 3000
        assert {"name": "APP_VERSION", "value": version} in container["environment"]
        assert task_def["requiresCompatibilities"] == ["FARGATE"]
    service = ecs.describe_services(cluster=codedeploy_world.cluster_name, services=[codedeploy_world.service_name])[
        "services"
    ][0]
    assert service["deploymentController"] == {"type": "CODE_DEPLOY"}
    assert service["launchType"] == "FARGATE"
    assert (service["desiredCount"], service["runningCount"], service["pendingCount"]) == (1, 1, 0)


def test_ecs_native_world_rules_and_revisions_agree(ecs_world: twin_aws.World, client: Callable[..., Any]) -> None:
    # GIVEN a seeded ECS native blue/green world
    ecs, elb = client("ecs"), client("elbv2")

    # WHEN the service, its listener rules and its deployment are read
    service = ecs.describe_services(cluster=ecs_world.cluster_name, services=[ecs_world.service_name])["services"][0]
    advanced = service["loadBalancers"][0]["advancedConfiguration"]
    rules = {
        route: elb.describe_rules(RuleArns=[advanced[f"{route}ListenerRule"]])["Rules"][0]
        for route in ("production", "test")
    }
    deployment = ecs.describe_service_deployments(serviceDeploymentArns=[service["currentServiceDeployment"]])[
        "serviceDeployments"
    ][0]
    green = ecs.describe_service_revisions(serviceRevisionArns=[deployment["targetServiceRevision"]["arn"]])[
        "serviceRevisions"
    ][0]

    # THEN the test rule sends everything to green, production stays on blue, green's revision runs in green's TG
    weights = {
        route: {tg["TargetGroupArn"]: tg["Weight"] for tg in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}
        for route, rule in rules.items()
    }
    assert weights["test"] == {ecs_world.blue_tg_arn: 0, ecs_world.green_tg_arn: 100}
    assert weights["production"] == {ecs_world.blue_tg_arn: 100, ecs_world.green_tg_arn: 0}
    assert service["deploymentController"] == {"type": "ECS"}
    assert service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert service["deploymentConfiguration"]["lifecycleHooks"][0]["hookTargetArn"] == ecs_world.hook_function_arn
    assert advanced["alternateTargetGroupArn"] == ecs_world.green_tg_arn
    assert green["resolvedConfiguration"]["loadBalancers"][0]["targetGroupArn"] == ecs_world.green_tg_arn
    assert green["taskDefinition"] == ecs_world.green_task_def_arn
    assert ecs_world.deployment_id is None and ecs_world.hook_execution_id is None


def test_seed_bluegreen_rejects_bad_arguments(aws_session: Any) -> None:
    # GIVEN the seeder
    # WHEN it gets an unknown controller, equal ports or a malformed target
    # THEN it says which argument is wrong, before creating anything
    with pytest.raises(ValueError, match="controller 'LAMBDA'"):
        twin_aws.seed_bluegreen(aws_session, controller="LAMBDA")
    with pytest.raises(ValueError, match="must differ"):
        twin_aws.seed_bluegreen(aws_session, prod_port=80, test_port=80)
    with pytest.raises(ValueError, match=r"green_targets\[0\]"):
        twin_aws.seed_bluegreen(aws_session, green_targets=[("10.0.2.10",)])  # type: ignore[list-item]
