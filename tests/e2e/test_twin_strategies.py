"""ECS native LINEAR and CANARY deployments through the twin: a gate at every production traffic step.

PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT recur at each step; the hook is invoked with that
step's production weights (botocore ecs model, LinearConfiguration / CanaryConfiguration; ECS Developer
Guide, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-linear.html and
.../deployment-type-canary.html). The spec (examples/twin/steps.yaml) asks production for `/` at each
step, so a green that breaks at step 2 is rolled back at step 2, with production back on blue.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest

from greenlight_twin.controller import Twin
from greenlight_twin.progress import STEP, Event, invocations

pytestmark = pytest.mark.e2e

STEPS = Path(__file__).resolve().parents[2] / "examples" / "twin" / "steps.yaml"


def production_version(twin: Twin) -> str | None:
    with urllib.request.urlopen(twin.prod_url + "/", timeout=5) as response:  # noqa: S310 (127.0.0.1 only)
        return response.headers.get("X-App-Version")


def ecs_deployment(twin: Twin, arn: str) -> dict[str, Any]:
    deployment: dict[str, Any] = twin.client("ecs").describe_service_deployments(serviceDeploymentArns=[arn])[
        "serviceDeployments"
    ][0]
    return deployment


def production_maps(calls: list[dict[str, Any]], target: str) -> list[dict[str, float]]:
    """Green's and blue's production weights in each PRODUCTION_TRAFFIC_SHIFT event, in order."""
    maps = []
    for call in calls:
        if call["hook"] == "PRODUCTION_TRAFFIC_SHIFT":
            details = call["event"]["executionDetails"]
            assert details["targetServiceRevisionArn"] == target
            assert details["testTrafficWeights"] == {}
            weights = details["productionTrafficWeights"]
            maps.append({"green": weights[target], "blue": sum(w for a, w in weights.items() if a != target)})
    return maps


@pytest.mark.parametrize(
    ("strategy", "percent", "steps"),
    [("LINEAR", 34.0, [34.0, 68.0, 100.0]), ("CANARY", 25.0, [25.0, 100.0])],
)
def test_strategy_good_green_promoted_through_every_step(
    ecs_twin: Twin, version: str, strategy: str, percent: float, steps: list[float]
) -> None:
    twin = ecs_twin
    # GIVEN production on blue
    blue = twin.live_version
    assert production_version(twin) == blue

    # WHEN a healthy green is deployed step by step, with a half-second bake between steps
    outcome = twin.deploy(STEPS, version=version, strategy=strategy, percent=percent, bake=0.5)

    # THEN every step's gate passed, production is on green, and each PRODUCTION_TRAFFIC_SHIFT saw its step's weights
    assert outcome.promoted, outcome.summary()
    assert production_version(twin) == version
    calls = invocations(outcome.events)
    deployment = ecs_deployment(twin, outcome.deployment_id)
    target = deployment["targetServiceRevision"]["arn"]
    assert production_maps(calls, target) == [{"green": s, "blue": 100.0 - s} for s in steps]
    assert [c["status"] for c in calls if c["hook"] == "PRODUCTION_TRAFFIC_SHIFT"] == ["SUCCEEDED"] * len(steps)
    # the stages that move no traffic send empty maps, and no hookDetails when none is configured
    post_test = next(c for c in calls if c["hook"] == "POST_TEST_TRAFFIC_SHIFT")["event"]
    assert post_test["executionDetails"]["testTrafficWeights"] == {}
    assert post_test["executionDetails"]["productionTrafficWeights"] == {}
    assert "hookDetails" not in post_test
    assert deployment["status"] == "SUCCESSFUL"
    key = "linearConfiguration" if strategy == "LINEAR" else "canaryConfiguration"
    assert deployment["deploymentConfiguration"]["strategy"] == strategy
    assert next(iter(deployment["deploymentConfiguration"][key].values())) == percent


def test_strategy_green_broken_at_step_two_rolled_back_there(ecs_twin: Twin, version: str) -> None:
    twin = ecs_twin
    # GIVEN production on blue, and a green whose tasks crash when the second production step begins
    blue = twin.live_version
    crashed: list[int] = []

    def crash_at_step_two(event: Event) -> None:
        if event.kind == STEP and event.data.get("stage") == "PRODUCTION_TRAFFIC_SHIFT" and event.data.get("step") == 2:
            player = twin.current
            assert player is not None and player.green is not None
            for task in player.green:
                task.stop(grace=1.0)
            crashed.append(2)
        if twin.progress is not None:
            twin.progress(event)

    # WHEN it is deployed LINEAR in three steps
    outcome = twin.deploy(STEPS, version=version, strategy="LINEAR", percent=34.0, bake=0.2, progress=crash_at_step_two)

    # THEN step 1 passed, step 2's gate failed, and ECS rolled back at step 2: production is on blue again
    assert crashed == [2]
    assert outcome.rolled_back and not outcome.promoted, outcome.summary()
    assert outcome.failed_step == "PRODUCTION_TRAFFIC_SHIFT" and "step 2" in outcome.reason
    assert production_version(twin) == blue
    calls = invocations(outcome.events)
    deployment = ecs_deployment(twin, outcome.deployment_id)
    target = deployment["targetServiceRevision"]["arn"]
    shifts = [c for c in calls if c["hook"] == "PRODUCTION_TRAFFIC_SHIFT"]
    assert [c["status"] for c in shifts if not c["rollback"]] == ["SUCCEEDED", "FAILED"]
    # the rollback runs PRODUCTION_TRAFFIC_SHIFT again: green (still the target) at 0, blue at 100
    assert production_maps(calls, target) == [
        {"green": 34.0, "blue": 66.0},
        {"green": 68.0, "blue": 32.0},
        {"green": 0.0, "blue": 100.0},
    ]
    assert shifts[-1]["rollback"] is True
    assert deployment["status"] == "ROLLBACK_SUCCESSFUL"
    assert deployment["rollback"]["serviceRevisionArn"] in {s["arn"] for s in deployment["sourceServiceRevisions"]}
