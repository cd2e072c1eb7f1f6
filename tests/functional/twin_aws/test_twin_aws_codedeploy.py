"""CodeDeploy on the twin: deployment targets, hook status reports, deployment groups, through boto3."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from greenlight_twin import aws as twin_aws


def _target_id(world: twin_aws.World) -> str:
    return f"{world.cluster_name}:{world.service_name}"


def test_list_deployment_targets_names_the_ecs_service(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a CodeDeploy ECS deployment in progress
    codedeploy = client("codedeploy")

    # WHEN its targets are listed
    listed = codedeploy.list_deployment_targets(deploymentId=codedeploy_world.deployment_id)

    # THEN the one target is the ECS service, named cluster:service as CodeDeploy names it
    assert listed["targetIds"] == [_target_id(codedeploy_world)]


def test_get_deployment_target_has_the_real_ecs_target_shape(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a CodeDeploy ECS deployment at AfterAllowTestTraffic
    codedeploy = client("codedeploy")

    # WHEN its target is read
    answer = codedeploy.get_deployment_target(
        deploymentId=codedeploy_world.deployment_id, targetId=_target_id(codedeploy_world)
    )["deploymentTarget"]

    # THEN it is an ECSTarget with both task sets, labelled, weighted and tied to their target groups
    assert answer["deploymentTargetType"] == "ECSTarget"
    target = answer["ecsTarget"]
    assert target["deploymentId"] == codedeploy_world.deployment_id
    assert target["targetArn"] == codedeploy_world.service_arn
    assert target["status"] == "InProgress"
    by_label = {ts["taskSetLabel"]: ts for ts in target["taskSetsInfo"]}
    assert set(by_label) == {"Blue", "Green"}
    green = by_label["Green"]
    assert green == {
        "identifer": codedeploy_world.green_task_set_id,
        "desiredCount": 1,
        "pendingCount": 0,
        "runningCount": 1,
        "status": "ACTIVE",
        "trafficWeight": 0.0,
        "targetGroup": {"name": codedeploy_world.green_tg_name},
        "taskSetLabel": "Green",
    }
    assert by_label["Blue"]["trafficWeight"] == 100.0
    assert by_label["Blue"]["targetGroup"] == {"name": codedeploy_world.blue_tg_name}
    # ... and its lifecycle events in CodeDeploy's order, the hook's one running
    events = {e["lifecycleEventName"]: e for e in target["lifecycleEvents"]}
    assert [e["lifecycleEventName"] for e in target["lifecycleEvents"]] == list(twin_aws.ECS_LIFECYCLE_EVENTS)
    assert events["AllowTestTraffic"]["status"] == "Succeeded"
    assert "endTime" in events["AllowTestTraffic"]
    assert events["AfterAllowTestTraffic"]["status"] == "InProgress"
    assert "startTime" in events["AfterAllowTestTraffic"]
    assert "endTime" not in events["AfterAllowTestTraffic"]
    assert events["AllowTraffic"] == {"lifecycleEventName": "AllowTraffic", "status": "Pending"}


def test_batch_get_deployment_targets_answers_the_same_target(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a deployment with an ECS target
    codedeploy = client("codedeploy")

    # WHEN the target is read in a batch
    targets = codedeploy.batch_get_deployment_targets(
        deploymentId=codedeploy_world.deployment_id, targetIds=[_target_id(codedeploy_world)]
    )["deploymentTargets"]

    # THEN it is the ECS target
    assert [t["ecsTarget"]["targetId"] for t in targets] == [_target_id(codedeploy_world)]


def test_get_deployment_target_unknown_target_raises_does_not_exist(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a deployment whose target is cluster:service
    codedeploy = client("codedeploy")

    # WHEN another target id is asked for
    # THEN CodeDeploy's error for it comes back
    with pytest.raises(codedeploy.exceptions.DeploymentTargetDoesNotExistException):
        codedeploy.get_deployment_target(deploymentId=codedeploy_world.deployment_id, targetId="other:svc")


def test_hook_status_is_recorded_once_and_a_second_report_raises_already_completed(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a fresh BeforeAllowTraffic hook execution
    codedeploy = client("codedeploy")
    deployment_id = codedeploy_world.deployment_id
    assert deployment_id
    execution_id = twin_aws.open_hook_execution(deployment_id, "BeforeAllowTraffic")

    # WHEN the hook reports Succeeded, then (a repeated invocation) Failed
    answer = codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
    )
    with pytest.raises(codedeploy.exceptions.LifecycleEventAlreadyCompletedException) as second:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Failed"
        )

    # THEN the first report stands, the second was refused with the real error code, and both are on record
    assert answer["lifecycleEventHookExecutionId"] == execution_id
    assert second.value.response["Error"]["Code"] == "LifecycleEventAlreadyCompletedException"
    execution = twin_aws.hook_execution(execution_id)
    assert execution.status == "Succeeded"
    assert execution.reports == ("Succeeded", "Failed")
    assert execution.lifecycle_event_name == "BeforeAllowTraffic"
    assert twin_aws.reported_status(execution_id) == "Succeeded"
    # ... and the deployment target shows the lifecycle event finished
    target = codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=_target_id(codedeploy_world))
    events = {e["lifecycleEventName"]: e for e in target["deploymentTarget"]["ecsTarget"]["lifecycleEvents"]}
    assert events["BeforeAllowTraffic"]["status"] == "Succeeded"
    assert "endTime" in events["BeforeAllowTraffic"]


def test_hook_status_unknown_execution_id_raises_invalid_id(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a deployment
    codedeploy = client("codedeploy")

    # WHEN a hook reports for an execution CodeDeploy never opened
    # THEN the real API's error for it comes back
    with pytest.raises(codedeploy.exceptions.InvalidLifecycleEventHookExecutionIdException):
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=codedeploy_world.deployment_id, lifecycleEventHookExecutionId="no-such-id", status="Failed"
        )


def test_hook_status_other_than_succeeded_or_failed_raises_invalid_status(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN an open hook execution
    codedeploy = client("codedeploy")
    assert codedeploy_world.deployment_id
    execution_id = twin_aws.open_hook_execution(codedeploy_world.deployment_id, "AfterAllowTraffic")

    # WHEN the hook reports InProgress
    with pytest.raises(codedeploy.exceptions.InvalidLifecycleEventHookExecutionStatusException):
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=codedeploy_world.deployment_id, lifecycleEventHookExecutionId=execution_id, status="InProgress"
        )

    # THEN nothing is recorded and a proper report still goes through
    assert twin_aws.reported_status(execution_id) is None
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=codedeploy_world.deployment_id, lifecycleEventHookExecutionId=execution_id, status="Failed"
    )
    assert twin_aws.reported_status(execution_id) == "Failed"


def test_hook_status_unknown_deployment_raises_does_not_exist(client: Callable[..., Any]) -> None:
    # GIVEN no deployment d-NOTHERE00
    codedeploy = client("codedeploy")

    # WHEN a hook reports for it
    # THEN CodeDeploy says the deployment does not exist
    with pytest.raises(codedeploy.exceptions.DeploymentDoesNotExistException):
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId="d-NOTHERE00", lifecycleEventHookExecutionId="x", status="Succeeded"
        )


def test_hook_status_after_the_deployment_failed_raises_already_completed(
    aws_session: Any, client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN a deployment that failed (e.g. the hour ran out) while its hook was still open
    world = twin_aws.seed_bluegreen(aws_session, name=unique_name("late"))
    assert world.deployment_id and world.hook_execution_id
    twin_aws.set_deployment_status(
        world.deployment_id, "Failed", error_code="TIMEOUT", error_message="The hook did not report in time"
    )
    codedeploy = client("codedeploy")

    # WHEN the hook finally reports
    with pytest.raises(codedeploy.exceptions.LifecycleEventAlreadyCompletedException):
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=world.deployment_id, lifecycleEventHookExecutionId=world.hook_execution_id, status="Succeeded"
        )

    # THEN GetDeployment shows the failure and its error information
    info = codedeploy.get_deployment(deploymentId=world.deployment_id)["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"] == {"code": "TIMEOUT", "message": "The hook did not report in time"}
    assert "completeTime" in info
    assert twin_aws.reported_status(world.hook_execution_id) is None


def test_deployment_target_before_the_deployment_starts_raises_not_started(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN a second deployment, just created, with no target yet
    codedeploy = client("codedeploy")
    deployment_id = codedeploy.create_deployment(
        applicationName=codedeploy_world.application_name,
        deploymentGroupName=codedeploy_world.deployment_group_name,
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}},
    )["deploymentId"]

    # WHEN its targets are read
    # THEN CodeDeploy says it has not started; once started without a target, that the target does not exist
    with pytest.raises(codedeploy.exceptions.DeploymentNotStartedException):
        codedeploy.list_deployment_targets(deploymentId=deployment_id)
    twin_aws.set_deployment_status(deployment_id, "InProgress")
    assert codedeploy.list_deployment_targets(deploymentId=deployment_id)["targetIds"] == []
    with pytest.raises(codedeploy.exceptions.DeploymentTargetDoesNotExistException):
        codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=_target_id(codedeploy_world))


def test_deployment_ids_look_like_codedeploy_ids(codedeploy_world: twin_aws.World) -> None:
    # GIVEN the seeded deployment
    # WHEN its id is read
    # THEN it has CodeDeploy's d-XXXXXXXXX form (moto alone gives UUIDs)
    assert codedeploy_world.deployment_id is not None
    assert re.fullmatch(r"d-[A-Z0-9]{9}", codedeploy_world.deployment_id)


def test_update_ecs_task_set_shifts_traffic_in_the_target(
    aws_session: Any, client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN a deployment at AfterAllowTestTraffic
    world = twin_aws.seed_bluegreen(aws_session, name=unique_name("shift"))
    assert world.deployment_id

    # WHEN the twin shifts production traffic to green
    twin_aws.update_ecs_task_set(world.deployment_id, "GREEN", traffic_weight=100.0, status="PRIMARY")
    twin_aws.update_ecs_task_set(world.deployment_id, "blue", traffic_weight=0.0, status="ACTIVE")
    twin_aws.set_lifecycle_event(world.deployment_id, "AllowTraffic", "Succeeded")

    # THEN GetDeploymentTarget reports it
    target = client("codedeploy").get_deployment_target(deploymentId=world.deployment_id, targetId=_target_id(world))
    ecs_target = target["deploymentTarget"]["ecsTarget"]
    weights = {ts["taskSetLabel"]: (ts["trafficWeight"], ts["status"]) for ts in ecs_target["taskSetsInfo"]}
    assert weights == {"Blue": (0.0, "ACTIVE"), "Green": (100.0, "PRIMARY")}
    events = {e["lifecycleEventName"]: e["status"] for e in ecs_target["lifecycleEvents"]}
    assert events["AllowTraffic"] == "Succeeded"


def test_deployment_group_keeps_the_ecs_blue_green_configuration(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN the seeded ECS deployment group
    codedeploy = client("codedeploy")

    # WHEN it is read back
    group = codedeploy.get_deployment_group(
        applicationName=codedeploy_world.application_name, deploymentGroupName=codedeploy_world.deployment_group_name
    )["deploymentGroupInfo"]

    # THEN every ECS blue/green field the hooks rely on is there
    assert group["computePlatform"] == "ECS"
    assert group["deploymentStyle"] == {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
    assert group["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    assert group["ecsServices"] == [
        {"serviceName": codedeploy_world.service_name, "clusterName": codedeploy_world.cluster_name}
    ]
    pair = group["loadBalancerInfo"]["targetGroupPairInfoList"][0]
    assert pair["prodTrafficRoute"] == {"listenerArns": [codedeploy_world.prod_listener_arn]}
    assert pair["testTrafficRoute"] == {"listenerArns": [codedeploy_world.test_listener_arn]}
    assert group["blueGreenDeploymentConfiguration"]["deploymentReadyOption"]["actionOnTimeout"] == (
        "CONTINUE_DEPLOYMENT"
    )
    assert group["lastAttemptedDeployment"]["deploymentId"]


def test_ecs_deployment_group_defaults_and_alarms_are_kept(
    client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN an ECS application and a group created without a deployment config but with alarms
    codedeploy = client("codedeploy")
    app = unique_name("app")
    codedeploy.create_application(applicationName=app, computePlatform="ECS")
    alarms = {"enabled": True, "ignorePollAlarmFailure": False, "alarms": [{"name": "green-5xx"}]}
    codedeploy.create_deployment_group(
        applicationName=app,
        deploymentGroupName="dg",
        serviceRoleArn="arn:aws:iam::123456789012:role/ecsCodeDeployRole",
        alarmConfiguration=alarms,
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
    )

    # WHEN it is read back
    group = codedeploy.get_deployment_group(applicationName=app, deploymentGroupName="dg")["deploymentGroupInfo"]

    # THEN it has CodeDeploy's ECS default and the alarms (moto alone answers OneAtATime and {})
    assert group["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    assert group["alarmConfiguration"] == alarms


def test_backdoors_name_bad_input() -> None:
    # GIVEN the backdoors
    # WHEN they get a misspelt hook name or an unknown deployment
    # THEN the error names the problem (and a likely fix)
    with pytest.raises(ValueError, match="did you mean 'AfterAllowTestTraffic'"):
        twin_aws.open_hook_execution("d-MISSING00", "AfterAllowTestTrafic")
    with pytest.raises(twin_aws.UnknownResourceError, match="d-MISSING00"):
        twin_aws.open_hook_execution("d-MISSING00", "AfterAllowTestTraffic")
    with pytest.raises(ValueError, match="did you mean 'Green'"):
        twin_aws.EcsTaskSet(identifier="ecs-svc/1", label="Gren", target_group="tg").checked()
