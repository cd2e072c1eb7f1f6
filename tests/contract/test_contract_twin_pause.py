"""The twin's ECS PAUSE hook against botocore's ecs model: lifecycleHookDetails and the EventBridge event.

While the twin's ECS player holds a deployment at a PAUSE hook, DescribeServiceDeployments shows it in
`lifecycleHookDetails` (botocore ecs model DeploymentLifecycleHookDetail: hookId, targetType PAUSE, no
targetArn "for PAUSE hooks", status AWAITING_ACTION, expiresAt, timeoutAction), and the "ECS Hook State
Change" event it sends repeats that hook (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html
documents the detail-type and the event name HOOK_AWAITING_ACTION only). The event must match the
template's EventBridge rule and be what greenlight's PAUSE handler reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore_shapes import problems_with_output, problems_with_shape

from greenlight.durable import pause
from greenlight_twin import aws as twin_aws
from greenlight_twin.cfn import load_template
from greenlight_twin.players.ecs import pause_event

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
STAGE = "POST_TEST_TRAFFIC_SHIFT"


@pytest.fixture(scope="module")
def paused() -> Iterator[dict[str, Any]]:
    """A service deployment of the twin paused at a PAUSE hook: the raw and parsed answers, the hook, the world."""
    with twin_aws.start() as server:
        session = server.session("us-east-1")
        raw: dict[str, Any] = {}

        def keep(http_response: Any, model: Any, **_: Any) -> None:
            if model.name == "DescribeServiceDeployments" and http_response.status_code == 200:
                raw["body"] = json.loads(http_response.content)

        session.events.register("after-call.ecs", keep)
        world = twin_aws.seed_bluegreen(session, name="contractpause", region="us-east-1", controller="ECS")
        assert world.service_deployment_arn
        hook_id = twin_aws.pause_at_hook(world.service_deployment_arn, timeout_seconds=120)
        answer = session.client("ecs").describe_service_deployments(
            serviceDeploymentArns=[world.service_deployment_arn]
        )
        yield {"world": world, "hook_id": hook_id, "answer": answer, "raw": raw["body"]}


def _hook(paused: dict[str, Any]) -> dict[str, Any]:
    hooks = paused["answer"]["serviceDeployments"][0]["lifecycleHookDetails"]
    return next(h for h in hooks if h["hookId"] == paused["hook_id"])


def test_contract_twin_pause_hook_details_match_botocore(paused: dict[str, Any]) -> None:
    # WHEN the paused deployment is described
    # THEN the answer, on the wire and parsed, fits DescribeServiceDeployments' output shape
    assert problems_with_output("ecs", "DescribeServiceDeployments", paused["raw"], raw=True) == []
    assert problems_with_output("ecs", "DescribeServiceDeployments", paused["answer"], raw=False) == []
    # AND the hook is a PAUSE awaiting action, without the targetArn only Lambda hooks have, rolled back at its timeout
    hook = _hook(paused)
    assert hook["targetType"] == "PAUSE" and "targetArn" not in hook
    assert hook["status"] == "AWAITING_ACTION" and hook["timeoutAction"] == "ROLLBACK"


def test_contract_twin_pause_event_matches_botocore_and_the_rule(paused: dict[str, Any]) -> None:
    arn = paused["world"].service_deployment_arn
    # WHEN the twin's ECS player builds the event of the hook awaiting action
    event = pause_event(paused["world"], arn, STAGE, _hook(paused))
    # THEN the hook it repeats is a DeploymentLifecycleHookDetail as it goes over the wire (expiresAt in ISO 8601)
    detail = event["detail"]
    fields = {k: v for k, v in detail.items() if k in ("hookId", "targetType", "status", "expiresAt", "timeoutAction")}
    assert set(fields) == {"hookId", "targetType", "status", "expiresAt", "timeoutAction"}
    assert problems_with_shape("ecs", "DeploymentLifecycleHookDetail", fields, raw=True) == []
    assert detail["eventName"] == "HOOK_AWAITING_ACTION" and event["detail-type"] == "ECS Hook State Change"
    # AND it matches the template's rule for the PauseHook
    template = load_template(TEMPLATE)
    pattern = template["Resources"]["PauseHook"]["Properties"]["Events"]["HookAwaitingAction"]["Properties"]["Pattern"]
    assert event["source"] in pattern["source"] and event["detail-type"] in pattern["detail-type"]
    # AND greenlight's PAUSE handler reads the deployment and the hook from it
    assert pause.parse_event(event) == (arn, paused["hook_id"])


def test_contract_validator_catches_a_wrong_hook_detail() -> None:
    # GIVEN a hook with a target type the model does not list and an expiresAt that is no time
    wrong = {"hookId": "h", "targetType": "WAIT", "status": "AWAITING_ACTION", "expiresAt": "soon"}
    # THEN the validator names both
    problems = problems_with_shape("ecs", "DeploymentLifecycleHookDetail", wrong, raw=True)
    assert any("targetType" in p for p in problems) and any("expiresAt" in p for p in problems), problems
