"""DescribeServiceDeployments of the twin for what ECS hooks decide from: first deployment, rollback, strategy.

botocore ecs model: ServiceDeployment.sourceServiceRevisions (empty when the service is created),
ServiceDeployment.rollback (Rollback: reason, startedAt, serviceRevisionArn), ServiceDeploymentStatus
ROLLBACK_IN_PROGRESS, DeploymentConfiguration.strategy with linearConfiguration / canaryConfiguration.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from greenlight_twin import aws as twin_aws


def _describe(client: Callable[..., Any], arn: str) -> dict[str, Any]:
    found: dict[str, Any] = client("ecs").describe_service_deployments(serviceDeploymentArns=[arn])[
        "serviceDeployments"
    ][0]
    return found


def test_service_creation_has_no_source_revision(
    aws_session: Any, client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN a service at rest: its only deployment is the one that created it
    world = twin_aws.seed_bluegreen(aws_session, name=unique_name("first"), controller="ECS", deployment=False)
    assert world.service_deployment_arn

    # THEN that deployment has no source revision (what a hook reads as "first deployment")
    created = _describe(client, world.service_deployment_arn)
    assert created["sourceServiceRevisions"] == []
    assert created["targetServiceRevision"]["arn"] == world.blue_revision_arn


def test_rollback_shows_status_and_rollback_fields(
    aws_session: Any, client: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    # GIVEN a LINEAR deployment from blue to green
    world = twin_aws.seed_bluegreen(aws_session, name=unique_name("rb"), controller="ECS", deployment=False)
    assert world.blue_revision_arn
    green = twin_aws.register_service_revision(world.service_arn, task_definition=world.green_task_def_arn)
    linear = {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1}}
    arn = twin_aws.start_service_deployment(
        world.service_arn,
        target_revision=green,
        source_revisions=[world.blue_revision_arn],
        deployment_configuration=linear,
    )
    assert "rollback" not in _describe(client, arn)

    # WHEN it rolls back to blue
    twin_aws.update_service_deployment(
        arn,
        status="ROLLBACK_IN_PROGRESS",
        lifecycle_stage="PRODUCTION_TRAFFIC_SHIFT",
        rollback={"reason": "lifecycle hook failed", "serviceRevisionArn": world.blue_revision_arn},
    )

    # THEN DescribeServiceDeployments shows it as botocore's model has it, the target still green
    deployment = _describe(client, arn)
    assert deployment["status"] == "ROLLBACK_IN_PROGRESS"
    assert deployment["rollback"]["serviceRevisionArn"] == world.blue_revision_arn
    assert deployment["rollback"]["reason"] == "lifecycle hook failed"
    assert isinstance(deployment["rollback"]["startedAt"], datetime.datetime)
    assert deployment["targetServiceRevision"]["arn"] == green
    assert deployment["deploymentConfiguration"]["strategy"] == "LINEAR"
    assert deployment["deploymentConfiguration"]["linearConfiguration"] == linear["linearConfiguration"]
