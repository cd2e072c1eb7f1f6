"""The twin's AWS extensions the twin player leans on: StopDeployment, targets per (IP, port), a world at rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from greenlight_twin import aws as twin_aws


def _error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


# --- CodeDeploy StopDeployment ------------------------------------------------------------------------


@pytest.fixture
def deployment(aws_session: Any, unique_name: Callable[[str], str]) -> twin_aws.World:
    """A CodeDeploy deployment of its own at AfterAllowTestTraffic: these tests stop or forget it."""
    return twin_aws.seed_bluegreen(aws_session, name=unique_name("stop"))


def test_stop_deployment_without_rollback_is_recorded_as_asked(
    deployment: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a deployment in progress that nobody asked to stop
    assert deployment.deployment_id is not None
    assert twin_aws.stop_requested(deployment.deployment_id) is None

    # WHEN StopDeployment is called without automatic rollback
    answer = client("codedeploy").stop_deployment(deploymentId=deployment.deployment_id, autoRollbackEnabled=False)

    # THEN CodeDeploy answers Pending, and the twin records that no rollback was asked for
    assert answer["status"] == "Pending"
    assert deployment.deployment_id in answer["statusMessage"]
    assert twin_aws.stop_requested(deployment.deployment_id) is False


def test_stop_deployment_without_the_flag_asks_for_a_rollback(
    deployment: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a deployment in progress
    assert deployment.deployment_id is not None

    # WHEN StopDeployment is called without autoRollbackEnabled
    client("codedeploy").stop_deployment(deploymentId=deployment.deployment_id)

    # THEN the stop is recorded with a rollback, and the deployment itself is left to whoever plays it
    assert twin_aws.stop_requested(deployment.deployment_id) is True
    status = client("codedeploy").get_deployment(deploymentId=deployment.deployment_id)["deploymentInfo"]["status"]
    assert status == "InProgress"


def test_stop_deployment_after_it_completed_raises_already_completed(
    deployment: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a deployment that has succeeded
    assert deployment.deployment_id is not None
    twin_aws.set_deployment_status(deployment.deployment_id, "Succeeded")

    # WHEN StopDeployment is called for it
    with pytest.raises(ClientError) as excinfo:
        client("codedeploy", attempts=1).stop_deployment(deploymentId=deployment.deployment_id)

    # THEN CodeDeploy refuses, and no stop is recorded
    assert _error_code(excinfo) == "DeploymentAlreadyCompletedException"
    assert "Succeeded" in str(excinfo.value)
    assert twin_aws.stop_requested(deployment.deployment_id) is None


def test_stop_deployment_of_an_unknown_deployment_raises_does_not_exist(client: Callable[..., Any]) -> None:
    # GIVEN a deployment id the twin never saw
    missing = "d-NOTTHERE1"

    # WHEN StopDeployment is called for it
    with pytest.raises(ClientError) as excinfo:
        client("codedeploy", attempts=1).stop_deployment(deploymentId=missing)

    # THEN CodeDeploy says there is no such deployment, and the backdoor says so too
    assert _error_code(excinfo) == "DeploymentDoesNotExistException"
    with pytest.raises(twin_aws.UnknownResourceError, match=missing):
        twin_aws.stop_requested(missing)


def test_forget_deployment_removes_it_with_its_stop_and_hook_executions(
    deployment: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a stopped deployment with its open hook execution
    assert deployment.deployment_id is not None and deployment.hook_execution_id is not None
    codedeploy = client("codedeploy", attempts=1)
    codedeploy.stop_deployment(deploymentId=deployment.deployment_id)

    # WHEN the twin forgets it, twice
    first = twin_aws.forget_deployment(deployment.deployment_id)
    second = twin_aws.forget_deployment(deployment.deployment_id)

    # THEN it existed the first time only, and nothing of it is left: not in CodeDeploy, not in the backdoors
    assert (first, second) == (True, False)
    with pytest.raises(ClientError) as excinfo:
        codedeploy.get_deployment(deploymentId=deployment.deployment_id)
    assert _error_code(excinfo) == "DeploymentDoesNotExistException"
    with pytest.raises(twin_aws.UnknownResourceError):
        twin_aws.stop_requested(deployment.deployment_id)
    with pytest.raises(twin_aws.UnknownResourceError):
        twin_aws.hook_execution(deployment.hook_execution_id)
    listed = codedeploy.list_deployments(
        applicationName=deployment.application_name, deploymentGroupName=deployment.deployment_group_name
    )["deployments"]
    assert deployment.deployment_id not in listed


# --- ELBv2 targets per (IP, port) ---------------------------------------------------------------------


@pytest.fixture
def loopback_group(aws_session: Any, unique_name: Callable[[str], str]) -> dict[str, Any]:
    """An empty IP target group, like the twin's: its tasks all listen on 127.0.0.1, each on a port of its own."""
    ec2 = aws_session.client("ec2")
    elb = aws_session.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    arn = elb.create_target_group(
        Name=unique_name("lo"), Protocol="HTTP", Port=3000, VpcId=vpc, TargetType="ip", HealthCheckPath="/health"
    )["TargetGroups"][0]["TargetGroupArn"]
    return {"arn": arn, "elb": elb}


def _described(elb: Any, tg_arn: str, targets: list[dict[str, Any]] | None = None) -> dict[tuple[str, int], str]:
    extra = {"Targets": targets} if targets is not None else {}
    answer = elb.describe_target_health(TargetGroupArn=tg_arn, **extra)["TargetHealthDescriptions"]
    return {(d["Target"]["Id"], int(d["Target"]["Port"])): d["TargetHealth"]["State"] for d in answer}


def test_two_targets_on_one_ip_with_different_ports_are_both_registered(loopback_group: dict[str, Any]) -> None:
    # GIVEN two tasks on 127.0.0.1, on different ports
    elb, arn = loopback_group["elb"], loopback_group["arn"]

    # WHEN both are registered
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": 41001}])
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": 41002}])

    # THEN DescribeTargetHealth lists both, each on its own port (moto alone keeps one target per IP)
    assert _described(elb, arn) == {("127.0.0.1", 41001): "healthy", ("127.0.0.1", 41002): "healthy"}


def test_deregistering_one_port_keeps_the_other_target_on_that_ip(loopback_group: dict[str, Any]) -> None:
    # GIVEN two targets on 127.0.0.1, on different ports
    elb, arn = loopback_group["elb"], loopback_group["arn"]
    elb.register_targets(
        TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": 41011}, {"Id": "127.0.0.1", "Port": 41012}]
    )

    # WHEN the first is deregistered
    elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": 41011}])

    # THEN only the second is listed; asked for by name, the first is on that IP but not registered on that port
    assert _described(elb, arn) == {("127.0.0.1", 41012): "healthy"}
    asked = elb.describe_target_health(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": 41011}])
    health = asked["TargetHealthDescriptions"][0]["TargetHealth"]
    assert (health["State"], health["Reason"]) == ("unused", "Target.NotRegistered")


def test_deregistering_a_port_that_is_not_registered_raises_invalid_target(loopback_group: dict[str, Any]) -> None:
    # GIVEN one target on 127.0.0.1
    elb, arn = loopback_group["elb"], loopback_group["arn"]
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": 41021}])

    # WHEN the same IP is deregistered on another port
    with pytest.raises(ClientError) as excinfo:
        elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": 41022}])

    # THEN ELBv2 refuses, and the registered target stays
    assert _error_code(excinfo) == "InvalidTarget"
    assert _described(elb, arn) == {("127.0.0.1", 41021): "healthy"}


def test_target_health_set_for_one_port_leaves_the_other_port_alone(loopback_group: dict[str, Any]) -> None:
    # GIVEN two targets on 127.0.0.1, on different ports
    elb, arn = loopback_group["elb"], loopback_group["arn"]
    elb.register_targets(
        TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": 41031}, {"Id": "127.0.0.1", "Port": 41032}]
    )

    # WHEN one of them is made unhealthy
    twin_aws.set_target_health(arn, "127.0.0.1", 41032, "unhealthy", reason="Target.ResponseCodeMismatch")

    # THEN only that one is reported unhealthy
    assert _described(elb, arn) == {("127.0.0.1", 41031): "healthy", ("127.0.0.1", 41032): "unhealthy"}


# --- a world at rest ------------------------------------------------------------------------------------


def test_seed_codedeploy_at_rest_has_no_deployment_and_everything_on_blue(
    aws_session: Any, client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN nothing

    # WHEN a CodeDeploy world is seeded without a deployment
    world = twin_aws.seed_bluegreen(
        aws_session, name=unique_name("rest"), blue_targets=[("10.0.1.10", 3000), ("10.0.1.11", 3000)], deployment=False
    )

    # THEN the World names no deployment, and AWS agrees: blue serves both listeners, green is empty
    assert (world.deployment_id, world.hook_execution_id) == (None, None)
    assert (world.green_task_set_id, world.green_task_set_arn) == (None, None)
    assert world.blue_task_set_arn is not None and world.application_name and world.deployment_group_name
    assert world.green_targets == ()
    elb, ecs = client("elbv2"), client("ecs")
    for listener in (world.prod_listener_arn, world.test_listener_arn):
        action = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]
        assert action["TargetGroupArn"] == world.blue_tg_arn
    assert elb.describe_target_health(TargetGroupArn=world.green_tg_arn)["TargetHealthDescriptions"] == []
    assert len(elb.describe_target_health(TargetGroupArn=world.blue_tg_arn)["TargetHealthDescriptions"]) == 2
    task_sets = ecs.describe_task_sets(cluster=world.cluster_name, service=world.service_name)["taskSets"]
    assert [(ts["taskSetArn"], ts["status"]) for ts in task_sets] == [(world.blue_task_set_arn, "PRIMARY")]
    deployments = client("codedeploy").list_deployments(
        applicationName=world.application_name, deploymentGroupName=world.deployment_group_name
    )["deployments"]
    assert deployments == []


def test_seed_ecs_native_at_rest_has_only_the_deployment_that_created_the_service(
    aws_session: Any, client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN nothing

    # WHEN an ECS native world is seeded without a deployment
    world = twin_aws.seed_bluegreen(aws_session, name=unique_name("rest"), controller="ECS", deployment=False)

    # THEN both rules send everything to blue, the service runs blue, and its one deployment has finished
    assert world.green_revision_arn is None and world.green_targets == ()
    assert world.blue_revision_arn is not None and world.service_deployment_arn is not None
    elb, ecs = client("elbv2"), client("ecs")
    for rule_arn in (world.prod_rule_arn, world.test_rule_arn):
        rule = elb.describe_rules(RuleArns=[rule_arn])["Rules"][0]
        weights = {g["TargetGroupArn"]: g["Weight"] for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}
        assert weights == {world.blue_tg_arn: 100, world.green_tg_arn: 0}
    service = ecs.describe_services(cluster=world.cluster_name, services=[world.service_name])["services"][0]
    assert service["taskDefinition"] == world.blue_task_def_arn
    assert service["runningCount"] == 1
    deployment = ecs.describe_service_deployments(serviceDeploymentArns=[world.service_deployment_arn])[
        "serviceDeployments"
    ][0]
    assert (deployment["status"], deployment["lifecycleStage"]) == ("SUCCESSFUL", "CLEAN_UP")
    assert deployment["targetServiceRevision"]["arn"] == world.blue_revision_arn
    assert deployment["sourceServiceRevisions"] == []
    assert elb.describe_target_health(TargetGroupArn=world.green_tg_arn)["TargetHealthDescriptions"] == []


def test_seed_with_a_deployment_needs_green_targets(aws_session: Any, unique_name: Callable[[str], str]) -> None:
    # GIVEN no green targets

    # WHEN a deployment in progress is asked for
    with pytest.raises(ValueError, match="green_targets must name at least one") as excinfo:
        twin_aws.seed_bluegreen(aws_session, name=unique_name("nogreen"), green_targets=())

    # THEN the error names the argument (a world at rest would take none)
    assert "(ip, port)" in str(excinfo.value)
