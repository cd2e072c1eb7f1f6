"""Every answer of the twin's AWS extensions against botocore's output shape of its operation.

The twin adds to moto what greenlight needs (twin/greenlight_twin/aws): CodeDeploy deployment targets
and hook reports, ECS service revisions, service deployments and task sets, ELB target health. Each
answer is captured as it went over the wire (JSON protocols) or as botocore parsed it (elbv2's XML) and
walked against the model (tests/contract/botocore_shapes.py).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore_shapes import problems_with_output

from greenlight_twin import aws as twin_aws

JSON_PROTOCOL = {"ecs", "codedeploy"}


@pytest.fixture(scope="module")
def server() -> Iterator[twin_aws.MotoServer]:
    with twin_aws.start() as running:
        yield running


@pytest.fixture(scope="module")
def captured(server: twin_aws.MotoServer) -> dict[str, Any]:
    """{"session": a boto3 session on the twin, "raw": {(service, operation): body}} filled as calls are made."""
    session = server.session("us-east-1")
    raw: dict[tuple[str, str], Any] = {}

    def keep(http_response: Any, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        if service in JSON_PROTOCOL and http_response.status_code == 200:
            raw[(service, model.name)] = json.loads(http_response.content or b"{}")

    session.events.register("after-call", keep)
    return {"session": session, "raw": raw}


def _check(captured: dict[str, Any], service: str, operation: str, parsed: Any) -> list[str]:
    problems = problems_with_output(service, operation, parsed, raw=False)
    if service in JSON_PROTOCOL:
        problems += problems_with_output(service, operation, captured["raw"][(service, operation)], raw=True)
    return problems


@pytest.fixture(scope="module")
def codedeploy(captured: dict[str, Any]) -> twin_aws.World:
    return twin_aws.seed_bluegreen(captured["session"], name="contractcd", region="us-east-1")


@pytest.fixture(scope="module")
def ecs(captured: dict[str, Any]) -> twin_aws.World:
    world = twin_aws.seed_bluegreen(captured["session"], name="contractecs", region="us-east-1", controller="ECS")
    assert world.service_deployment_arn
    twin_aws.update_service_deployment(
        world.service_deployment_arn,
        lifecycle_stage="POST_TEST_TRAFFIC_SHIFT",
        lifecycle_hook_details=[
            {
                "hookId": "hook-1",
                "targetType": "AWS_LAMBDA",
                "targetArn": world.hook_function_arn,
                "status": "IN_PROGRESS",
                "expiresAt": datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
                "timeoutAction": "ROLLBACK",
            }
        ],
    )
    return world


def _codedeploy_calls(w: twin_aws.World) -> list[tuple[str, dict[str, Any]]]:
    assert w.deployment_id and w.hook_execution_id
    target_id = f"{w.cluster_name}:{w.service_name}"
    return [
        ("list_deployment_targets", {"deploymentId": w.deployment_id}),
        ("get_deployment_target", {"deploymentId": w.deployment_id, "targetId": target_id}),
        ("batch_get_deployment_targets", {"deploymentId": w.deployment_id, "targetIds": [target_id]}),
        ("get_deployment", {"deploymentId": w.deployment_id}),
        (
            "get_deployment_group",
            {"applicationName": w.application_name, "deploymentGroupName": w.deployment_group_name},
        ),
        (
            "put_lifecycle_event_hook_execution_status",
            {
                "deploymentId": w.deployment_id,
                "lifecycleEventHookExecutionId": w.hook_execution_id,
                "status": "Succeeded",
            },
        ),
        ("stop_deployment", {"deploymentId": w.deployment_id, "autoRollbackEnabled": True}),
    ]


def test_contract_twin_codedeploy_answers_match_botocore(captured: dict[str, Any], codedeploy: twin_aws.World) -> None:
    # GIVEN a CodeDeploy blue/green deployment on the twin
    client = captured["session"].client("codedeploy")
    problems: dict[str, list[str]] = {}
    # WHEN each operation the twin adds or reshapes is called
    for operation, params in _codedeploy_calls(codedeploy):
        parsed = getattr(client, operation)(**params)
        name = client.meta.method_to_api_mapping[operation]
        problems[name] = _check(captured, "codedeploy", name, parsed)
    # THEN every answer has the members, types and enum values botocore's model gives
    assert {k: v for k, v in problems.items() if v} == {}
    print(f"codedeploy: {len(problems)} operations checked")


def test_contract_twin_ecs_answers_match_botocore(
    captured: dict[str, Any], ecs: twin_aws.World, codedeploy: twin_aws.World
) -> None:
    # GIVEN an ECS native deployment (service revisions, a service deployment running a hook) and a
    # CodeDeploy one (task sets) on the twin
    client = captured["session"].client("ecs")
    assert ecs.green_revision_arn and ecs.blue_revision_arn and codedeploy.green_task_set_arn
    calls = [
        ("describe_service_revisions", {"serviceRevisionArns": [ecs.green_revision_arn, ecs.blue_revision_arn]}),
        ("describe_service_deployments", {"serviceDeploymentArns": [ecs.service_deployment_arn]}),
        ("list_service_deployments", {"cluster": ecs.cluster_name, "service": ecs.service_name}),
        ("describe_services", {"cluster": ecs.cluster_name, "services": [ecs.service_name]}),
        (
            "describe_task_sets",
            {
                "cluster": codedeploy.cluster_name,
                "service": codedeploy.service_name,
                "taskSets": [codedeploy.green_task_set_arn],
            },
        ),
    ]
    problems: dict[str, list[str]] = {}
    answers: dict[str, Any] = {}
    # WHEN each is called
    for operation, params in calls:
        parsed = answers[operation] = getattr(client, operation)(**params)
        name = client.meta.method_to_api_mapping[operation]
        problems[name] = _check(captured, "ecs", name, parsed)
    # (each answer holds what was asked for, so the walk covers its nested shapes)
    assert len(answers["describe_service_revisions"]["serviceRevisions"]) == 2
    (deployment,) = answers["describe_service_deployments"]["serviceDeployments"]
    assert deployment["lifecycleHookDetails"][0]["timeoutAction"] == "ROLLBACK"
    assert deployment["sourceServiceRevisions"] and answers["describe_task_sets"]["taskSets"]
    # THEN every answer matches the model
    assert {k: v for k, v in problems.items() if v} == {}
    print(f"ecs: {len(problems)} operations checked")


def test_contract_twin_target_health_matches_botocore(captured: dict[str, Any], codedeploy: twin_aws.World) -> None:
    # GIVEN the twin's target groups
    client = captured["session"].client("elbv2")
    problems = {}
    # WHEN their health is described
    for arn in (codedeploy.blue_tg_arn, codedeploy.green_tg_arn):
        parsed = client.describe_target_health(TargetGroupArn=arn)
        problems[arn] = problems_with_output("elbv2", "DescribeTargetHealth", parsed, raw=False)
        assert parsed["TargetHealthDescriptions"]
    # THEN each answer matches the model
    assert {k: v for k, v in problems.items() if v} == {}


def test_contract_validator_catches_a_wrong_answer() -> None:
    # GIVEN answers that botocore would parse without complaint but that break the model
    wrong = {
        "serviceDeployments": [
            {"serviceDeploymentArn": 7, "status": "ROLLING_BACK", "lifecycleHookDetails": [{"expiresAt": "soon"}]}
        ],
        "unexpected": True,
    }
    # WHEN they are validated
    problems = problems_with_output("ecs", "DescribeServiceDeployments", wrong, raw=True)
    # THEN each break is named
    text = "\n".join(problems)
    assert "serviceDeploymentArn: expected a string" in text
    assert "'ROLLING_BACK' is not one of" in text
    assert "'soon' is not a timestamp" in text
    assert "'unexpected' is not a member" in text
    # AND a required member is checked where the model has one
    missing = problems_with_output("codedeploy", "ListDeploymentTargets", {"targetIds": [1]}, raw=True)
    assert any("expected a string" in p for p in missing)
    elb = problems_with_output(
        "elbv2", "DescribeTargetHealth", {"TargetHealthDescriptions": [{"Target": {}}]}, raw=False
    )
    assert any("required member Id" in p for p in elb)
