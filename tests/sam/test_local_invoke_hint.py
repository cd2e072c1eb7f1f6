"""What a hook says when it cannot reach AWS: under `sam local` (AWS_SAM_LOCAL=true) the twin, in Lambda the VPC."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from greenlight.aws.errors import explain


def _unreachable() -> EndpointConnectionError:
    return EndpointConnectionError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com/")


def test_explain_unreachable_under_sam_local_points_at_the_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the variable sam local sets in every function's container
    monkeypatch.setenv("AWS_SAM_LOCAL", "true")

    # WHEN the CodeDeploy API cannot be reached
    message = explain(_unreachable(), "codedeploy:PutLifecycleEventHookExecutionStatus")

    # THEN the message names the API and the offline way out, not a VPC route
    assert message.startswith("cannot reach the CodeDeploy API (offline? use the twin: make sam-local)")
    assert "codedeploy:PutLifecycleEventHookExecutionStatus" in message and "EndpointConnectionError" in message
    assert "VPC" not in message


def test_explain_unreachable_in_lambda_names_the_vpc_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)

    message = explain(_unreachable(), "ecs:DescribeServiceDeployments")

    assert "a function in a VPC needs a route to it" in message
    assert "make sam-local" not in message
