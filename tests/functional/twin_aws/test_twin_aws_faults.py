"""Fault injection on the twin: deny, throttle and delay any action, answered as each protocol does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from greenlight_twin import aws as twin_aws


def test_deny_codedeploy_report_answers_access_denied_naming_the_deployment_group(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN the hook role may not report to CodeDeploy
    twin_aws.deny("codedeploy:PutLifecycleEventHookExecutionStatus")
    assert codedeploy_world.deployment_id
    execution_id = twin_aws.open_hook_execution(codedeploy_world.deployment_id, "AfterInstall")

    # WHEN the hook reports (JSON protocol)
    with pytest.raises(ClientError) as denied:
        client("codedeploy", attempts=1).put_lifecycle_event_hook_execution_status(
            deploymentId=codedeploy_world.deployment_id, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
        )

    # THEN botocore sees AccessDeniedException with AWS's message, and nothing was recorded
    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].startswith("User: arn:aws:sts::123456789012:assumed-role/")
    assert (
        "is not authorized to perform: codedeploy:PutLifecycleEventHookExecutionStatus "
        f"on resource: {codedeploy_world.deployment_group_arn}"
    ) in error["Message"]
    assert twin_aws.reported_status(execution_id) is None


def test_deny_elbv2_answers_the_query_protocol_access_denied(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN DescribeTargetHealth is denied, written with the boto3 client's name for the service
    twin_aws.deny("elbv2:DescribeTargetHealth", "no access for you")

    # WHEN target health is described (query protocol, XML errors)
    with pytest.raises(ClientError) as denied:
        client("elbv2", attempts=1).describe_target_health(TargetGroupArn=codedeploy_world.green_tg_arn)

    # THEN the XML error parses as ELB's AccessDenied, HTTP 403, with the given message
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["Error"]["Message"] == "no access for you"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_deny_cloudwatch_reports_the_query_compatible_code(client: Callable[..., Any]) -> None:
    # GIVEN DescribeAlarms is denied
    twin_aws.deny("cloudwatch:DescribeAlarms")

    # WHEN alarms are described (JSON protocol of a former query service)
    with pytest.raises(ClientError) as denied:
        client("cloudwatch", attempts=1).describe_alarms()

    # THEN botocore reports the query-era code, as it does against CloudWatch
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "cloudwatch:DescribeAlarms" in denied.value.response["Error"]["Message"]


def test_deny_for_a_number_of_calls_then_passes(client: Callable[..., Any]) -> None:
    # GIVEN SSM GetParameter denied once, and a parameter
    ssm = client("ssm", attempts=1)
    ssm.put_parameter(Name="/greenlight/fault-once", Value="v", Type="String", Overwrite=True)
    twin_aws.deny("ssm:GetParameter", times=1)

    # WHEN it is read twice
    with pytest.raises(ClientError) as denied:
        ssm.get_parameter(Name="/greenlight/fault-once")
    second = ssm.get_parameter(Name="/greenlight/fault-once")

    # THEN the first was denied and the second answered
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert second["Parameter"]["Value"] == "v"
    assert twin_aws.active_faults() == []


def test_throttle_answers_throttling_exception_then_passes(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN DescribeServices throttled twice
    twin_aws.throttle("ecs:DescribeServices", times=2)
    arguments = {"cluster": codedeploy_world.cluster_name, "services": [codedeploy_world.service_name]}

    # WHEN a client without retries calls it, then one with botocore's standard retries
    with pytest.raises(ClientError) as throttled:
        client("ecs", attempts=1).describe_services(**arguments)
    answer = client("ecs", attempts=3).describe_services(**arguments)

    # THEN the first sees ThrottlingException; the second is retried once past the last throttle
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    assert answer["services"][0]["serviceName"] == codedeploy_world.service_name
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1


def test_throttle_elbv2_answers_throttling(codedeploy_world: twin_aws.World, client: Callable[..., Any]) -> None:
    # GIVEN DescribeTargetHealth throttled once, named by its IAM prefix
    twin_aws.throttle("elasticloadbalancing:DescribeTargetHealth")

    # WHEN it is called without retries
    with pytest.raises(ClientError) as throttled:
        client("elbv2", attempts=1).describe_target_health(TargetGroupArn=codedeploy_world.green_tg_arn)

    # THEN ELB's query-protocol code comes back
    assert throttled.value.response["Error"]["Code"] == "Throttling"
    assert throttled.value.response["Error"]["Message"] == "Rate exceeded"


def test_delay_holds_the_call_past_a_client_timeout(
    codedeploy_world: twin_aws.World, client: Callable[..., Any]
) -> None:
    # GIVEN GetDeployment is held for 1.5 s
    twin_aws.delay("codedeploy:GetDeployment", 1.5, times=1)

    # WHEN a client with a 0.3 s read timeout calls it
    # THEN the client times out (botocore's ReadTimeoutError), and the next call answers
    with pytest.raises(ReadTimeoutError):
        client("codedeploy", attempts=1, read_timeout=0.3).get_deployment(deploymentId=codedeploy_world.deployment_id)
    info = client("codedeploy", attempts=1).get_deployment(deploymentId=codedeploy_world.deployment_id)
    assert info["deploymentInfo"]["deploymentId"] == codedeploy_world.deployment_id


def test_wildcards_and_clear_faults(codedeploy_world: twin_aws.World, client: Callable[..., Any]) -> None:
    # GIVEN every CodeDeploy action denied
    twin_aws.deny("codedeploy:*")
    codedeploy = client("codedeploy", attempts=1)

    # WHEN a read is tried, faults are cleared, and it is tried again
    with pytest.raises(ClientError) as denied:
        codedeploy.get_deployment(deploymentId=codedeploy_world.deployment_id)
    twin_aws.clear_faults()
    answer = codedeploy.get_deployment(deploymentId=codedeploy_world.deployment_id)

    # THEN only the first was denied; other services were never affected
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert answer["deploymentInfo"]["status"]


def test_fault_actions_are_checked() -> None:
    # GIVEN the fault functions
    # WHEN an action is malformed or misspelt
    # THEN the error names it and suggests the real one
    with pytest.raises(ValueError, match="must look like 'service:Action'"):
        twin_aws.deny("PutLifecycleEventHookExecutionStatus")
    with pytest.raises(ValueError, match="did you mean codedeploy:PutLifecycleEventHookExecutionStatus"):
        twin_aws.deny("codedeploy:PutLifecycleEventHookExecutionStatuses")
    with pytest.raises(ValueError, match="times must be a positive integer"):
        twin_aws.throttle("ecs:DescribeServices", times=0)
    assert twin_aws.active_faults() == []
