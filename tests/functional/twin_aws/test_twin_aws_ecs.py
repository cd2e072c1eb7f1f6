"""ECS on the twin: Fargate task sets, and ECS native blue/green service revisions and deployments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from greenlight_twin import aws as twin_aws


@pytest.fixture
def external_service(aws_session: Any, unique_name: Callable[[str], str]) -> dict[str, Any]:
    """A Fargate task definition and a service with the EXTERNAL deployment controller, desired count 4."""
    ec2 = aws_session.client("ec2")
    ecs = aws_session.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]  # DNS hostnames off: the moto default
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName=unique_name("sg"), Description="tasks", VpcId=vpc)["GroupId"]
    tg = aws_session.client("elbv2").create_target_group(
        Name=unique_name("ext"), Protocol="HTTP", Port=3000, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    cluster = unique_name("cluster")
    ecs.create_cluster(clusterName=cluster)
    task_def = ecs.register_task_definition(
        family=unique_name("fam"),
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",  # on the task only, as Fargate task definitions have it
        containerDefinitions=[{"name": "web", "image": "example/app:1", "portMappings": [{"containerPort": 3000}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=cluster, serviceName="svc", desiredCount=4, deploymentController={"type": "EXTERNAL"})
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg], "assignPublicIp": "DISABLED"}}
    return {"ecs": ecs, "cluster": cluster, "task_def": task_def, "tg": tg, "network": network}


def _create_task_set(svc: dict[str, Any], percent: float) -> dict[str, Any]:
    return svc["ecs"].create_task_set(
        cluster=svc["cluster"],
        service="svc",
        taskDefinition=svc["task_def"],
        launchType="FARGATE",
        networkConfiguration=svc["network"],
        loadBalancers=[{"targetGroupArn": svc["tg"], "containerName": "web", "containerPort": 3000}],
        scale={"unit": "PERCENT", "value": percent},
    )["taskSet"]


def test_fargate_task_set_is_created_and_counts_follow_its_scale(external_service: dict[str, Any]) -> None:
    # GIVEN a Fargate service with the EXTERNAL controller, desired count 4
    # WHEN a task set at 50% is created (moto alone fails here with a 500)
    created = _create_task_set(external_service, 50.0)

    # THEN DescribeTaskSets reports it with its load balancer and the counts of a settled task set
    described = external_service["ecs"].describe_task_sets(
        cluster=external_service["cluster"], service="svc", taskSets=[created["taskSetArn"]]
    )["taskSets"][0]
    assert described["launchType"] == "FARGATE"
    assert described["loadBalancers"][0]["targetGroupArn"] == external_service["tg"]
    assert (described["computedDesiredCount"], described["runningCount"], described["pendingCount"]) == (2, 2, 0)
    assert described["stabilityStatus"] == "STEADY_STATE"

    # WHEN it is scaled to 100%
    updated = external_service["ecs"].update_task_set(
        cluster=external_service["cluster"],
        service="svc",
        taskSet=created["taskSetArn"],
        scale={"unit": "PERCENT", "value": 100.0},
    )["taskSet"]

    # THEN its counts follow
    assert (updated["computedDesiredCount"], updated["runningCount"]) == (4, 4)


def test_task_set_state_backdoor_pins_counts_and_stability(external_service: dict[str, Any]) -> None:
    # GIVEN a Fargate task set
    created = _create_task_set(external_service, 100.0)

    # WHEN the twin says it is still starting tasks
    twin_aws.set_task_set_state(created["taskSetArn"], running_count=1, pending_count=3, stability_status="STABILIZING")

    # THEN DescribeTaskSets reports that, and a scale change no longer overrides it
    ecs = external_service["ecs"]
    ecs.update_task_set(
        cluster=external_service["cluster"],
        service="svc",
        taskSet=created["taskSetArn"],
        scale={"unit": "PERCENT", "value": 50.0},
    )
    described = ecs.describe_task_sets(
        cluster=external_service["cluster"], service="svc", taskSets=[created["taskSetArn"]]
    )["taskSets"][0]
    assert (described["runningCount"], described["pendingCount"]) == (1, 3)
    assert described["stabilityStatus"] == "STABILIZING"
    assert described["scale"] == {"unit": "PERCENT", "value": 50.0}


def test_code_deploy_service_task_sets_are_started_by_codedeploy(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN the seeded CODE_DEPLOY service
    # WHEN its task sets are described
    task_sets = client("ecs").describe_task_sets(
        cluster=codedeploy_world.cluster_name, service=codedeploy_world.service_name
    )["taskSets"]

    # THEN blue is PRIMARY in the blue target group, green ACTIVE in the green one
    by_id = {ts["id"]: ts for ts in task_sets}
    blue, green = by_id[codedeploy_world.blue_task_set_id], by_id[codedeploy_world.green_task_set_id]
    assert (blue["status"], blue["loadBalancers"][0]["targetGroupArn"]) == ("PRIMARY", codedeploy_world.blue_tg_arn)
    assert (green["status"], green["loadBalancers"][0]["targetGroupArn"]) == ("ACTIVE", codedeploy_world.green_tg_arn)
    assert {blue["startedBy"], green["startedBy"]} == {"CodeDeploy"}
    assert green["taskDefinition"] == codedeploy_world.green_task_def_arn


def test_describe_service_revisions_answers_registered_revisions_and_missing_ones(
    ecs_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN an ECS native blue/green service with a blue and a green revision
    missing = ecs_world.green_revision_arn[:-1] + "9" if ecs_world.green_revision_arn else ""

    # WHEN the green revision and an unknown one are described
    answer = client("ecs").describe_service_revisions(serviceRevisionArns=[ecs_world.green_revision_arn, missing])

    # THEN green carries its task definition and load balancer configuration; the unknown one is a failure
    revision = answer["serviceRevisions"][0]
    assert revision["serviceRevisionArn"] == ecs_world.green_revision_arn
    assert revision["serviceArn"] == ecs_world.service_arn
    assert revision["taskDefinition"] == ecs_world.green_task_def_arn
    advanced = revision["loadBalancers"][0]["advancedConfiguration"]
    assert advanced["alternateTargetGroupArn"] == ecs_world.green_tg_arn
    assert advanced["productionListenerRule"] == ecs_world.prod_rule_arn
    assert advanced["testListenerRule"] == ecs_world.test_rule_arn
    assert advanced["roleArn"].startswith("arn:aws:iam::")
    assert revision["resolvedConfiguration"]["loadBalancers"] == [
        {"targetGroupArn": ecs_world.green_tg_arn, "productionListenerRule": ecs_world.prod_rule_arn}
    ]
    assert revision["containerImages"][0]["image"] == "example/app:2.0.0"
    assert answer["failures"] == [{"arn": missing, "reason": "MISSING"}]


def test_describe_service_deployments_shows_source_and_target_revisions(
    ecs_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN an ECS native deployment in progress from blue to green
    ecs = client("ecs")

    # WHEN it is described and listed
    deployment = ecs.describe_service_deployments(serviceDeploymentArns=[ecs_world.service_deployment_arn])[
        "serviceDeployments"
    ][0]
    listed = ecs.list_service_deployments(cluster=ecs_world.cluster_name, service=ecs_world.service_name)

    # THEN it names both revisions with their traffic weights, its status and stage
    assert deployment["status"] == "IN_PROGRESS"
    assert deployment["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert deployment["targetServiceRevision"]["arn"] == ecs_world.green_revision_arn
    assert deployment["targetServiceRevision"]["requestedTestTrafficWeight"] == 100.0
    assert [s["arn"] for s in deployment["sourceServiceRevisions"]] == [ecs_world.blue_revision_arn]
    assert deployment["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] == 100.0
    assert deployment["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert [d["serviceDeploymentArn"] for d in listed["serviceDeployments"]] == [ecs_world.service_deployment_arn]
    assert listed["serviceDeployments"][0]["targetServiceRevisionArn"] == ecs_world.green_revision_arn


def test_update_service_deployment_moves_the_stage_and_the_service_follows(
    aws_session: Any, client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN an ECS native deployment at POST_TEST_TRAFFIC_SHIFT
    world = twin_aws.seed_bluegreen(aws_session, name=unique_name("move"), controller="ECS")
    assert world.service_deployment_arn and world.green_revision_arn

    # WHEN production traffic moves to green and the deployment succeeds
    twin_aws.update_service_deployment(
        world.service_deployment_arn,
        lifecycle_stage="POST_PRODUCTION_TRAFFIC_SHIFT",
        status="SUCCESSFUL",
        target_revision=twin_aws.RevisionSummary(
            world.green_revision_arn, requested_test_traffic_weight=100.0, requested_production_traffic_weight=100.0
        ),
    )

    # THEN ECS reports it, and the service names the deployment and its revisions
    ecs = client("ecs")
    deployment = ecs.describe_service_deployments(serviceDeploymentArns=[world.service_deployment_arn])[
        "serviceDeployments"
    ][0]
    assert (deployment["status"], deployment["lifecycleStage"]) == ("SUCCESSFUL", "POST_PRODUCTION_TRAFFIC_SHIFT")
    assert deployment["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
    assert "finishedAt" in deployment
    listed = ecs.list_service_deployments(
        cluster=world.cluster_name, service=world.service_name, status=["IN_PROGRESS"]
    )
    assert listed["serviceDeployments"] == []
    service = ecs.describe_services(cluster=world.cluster_name, services=[world.service_name])["services"][0]
    assert service["currentServiceDeployment"] == world.service_deployment_arn
    assert service["currentServiceRevisions"][0]["arn"] == world.green_revision_arn


def test_service_revision_backdoor_names_bad_input(ecs_world: twin_aws.World) -> None:
    # GIVEN the ECS backdoors
    # WHEN a deployment names a revision nobody registered, or a status ECS does not have
    # THEN the error says so
    with pytest.raises(twin_aws.UnknownResourceError, match="register it first"):
        twin_aws.start_service_deployment(ecs_world.service_arn, target_revision=ecs_world.service_arn + "/nope")
    assert ecs_world.service_deployment_arn
    with pytest.raises(ValueError, match="service deployment status 'DONE'"):
        twin_aws.update_service_deployment(ecs_world.service_deployment_arn, status="DONE")
