"""The sample events in `events/` against what AWS documents ECS and CodeDeploy send, and the checker itself."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from ecs_contract import (
    fixture,
    problems_with_codedeploy_hook_event,
    problems_with_ecs_hook_event,
    problems_with_ecs_hook_response,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
ECS_EVENTS = sorted(EVENTS.glob("ecs-*.json"))
CODEDEPLOY_EVENTS = sorted(EVENTS.glob("codedeploy-*.json"))


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def test_contract_fixtures_name_their_sources() -> None:
    # GIVEN / WHEN every fixture THEN it says which AWS page or sample it was transcribed from
    for name in ("ecs_lifecycle_payloads", "ecs_hook_response", "codedeploy_hook_event"):
        sources = fixture(name)["source"]
        assert sources and all("https://" in s for s in sources), name


@pytest.mark.parametrize("path", ECS_EVENTS, ids=lambda p: p.stem)
def test_contract_ecs_sample_event_is_what_ecs_sends(path: Path) -> None:
    # GIVEN a sample ECS event, its stage and whether it stands for a rollback re-run
    event = _load(path)
    # WHEN it is checked against the documented payload of its stage
    problems = problems_with_ecs_hook_event(event, stage=event["lifecycleStage"], rollback="rollback" in path.stem)
    # THEN it is exactly what ECS sends (no hookDetails: the samples stand for a hook configured without any)
    assert problems == []
    assert "hookDetails" not in event


def test_contract_every_stage_has_a_sample_event() -> None:
    stages = {_load(p)["lifecycleStage"] for p in ECS_EVENTS}
    assert stages == set(fixture("ecs_lifecycle_payloads")["stages"])


@pytest.mark.parametrize("path", CODEDEPLOY_EVENTS, ids=lambda p: p.stem)
def test_contract_codedeploy_sample_event_is_what_codedeploy_sends(path: Path) -> None:
    # GIVEN / WHEN a sample CodeDeploy event is checked THEN it has exactly the two documented fields
    assert problems_with_codedeploy_hook_event(_load(path)) == []


def _sample(stage: str) -> dict[str, Any]:
    return _load(EVENTS / f"ecs-{stage}.json")


def _set_weights(event: dict[str, Any], name: str, green: float | None) -> dict[str, Any]:
    """The event with its `name` map set to green/blue (None: empty)."""
    changed = copy.deepcopy(event)
    details = changed["executionDetails"]
    target = details["targetServiceRevisionArn"]
    blue = target.rsplit("/", 1)[0] + "/1"
    details[name] = {} if green is None else {target: green, blue: 100 - green}
    return changed


@pytest.mark.parametrize(
    ("event", "stage", "rollback", "words"),
    [
        # the project's old picture: weights at every stage
        (_set_weights(_sample("POST_SCALE_UP"), "productionTrafficWeights", 0), "POST_SCALE_UP", False, "sends {}"),
        (
            _set_weights(_sample("POST_TEST_TRAFFIC_SHIFT"), "testTrafficWeights", 100),
            "POST_TEST_TRAFFIC_SHIFT",
            False,
            "sends {}",
        ),
        # a map left empty where ECS fills it
        (_set_weights(_sample("TEST_TRAFFIC_SHIFT"), "testTrafficWeights", None), "TEST_TRAFFIC_SHIFT", False, "fills"),
        # green already has production before the shift
        (
            _set_weights(_sample("PRE_PRODUCTION_TRAFFIC_SHIFT"), "productionTrafficWeights", 100),
            "PRE_PRODUCTION_TRAFFIC_SHIFT",
            False,
            "gives it 0",
        ),
        # a forward production shift that gives green nothing
        (
            _set_weights(_sample("PRODUCTION_TRAFFIC_SHIFT"), "productionTrafficWeights", 0),
            "PRODUCTION_TRAFFIC_SHIFT",
            False,
            "> 0",
        ),
        # a rollback re-run where green keeps production
        (_sample("PRODUCTION_TRAFFIC_SHIFT"), "PRODUCTION_TRAFFIC_SHIFT", True, "gives it 0"),
        # a stage that does not run during a rollback
        (_sample("POST_SCALE_UP"), "POST_SCALE_UP", True, "does not run during a rollback"),
        # the wrong stage, a field ECS does not send, a missing one
        (_sample("POST_SCALE_UP"), "PRE_SCALE_UP", False, "expected 'PRE_SCALE_UP'"),
        ({**_sample("POST_SCALE_UP"), "deploymentId": "x"}, "POST_SCALE_UP", False, "does not send: deploymentId"),
        (
            {k: v for k, v in _sample("POST_SCALE_UP").items() if k != "resourceArn"},
            "POST_SCALE_UP",
            False,
            "missing resourceArn",
        ),
    ],
)
def test_contract_checker_names_each_difference(event: Any, stage: str, rollback: bool, words: str) -> None:
    # GIVEN an event that differs from the documented payload in one way
    # WHEN it is checked
    problems = problems_with_ecs_hook_event(event, stage=stage, rollback=rollback)
    # THEN that difference is named
    assert any(words in p for p in problems), problems


@pytest.mark.parametrize("value", [{"S3_BUCKET_NAME": "b"}, "a string", [1, 2], 3, None])
def test_contract_checker_accepts_any_json_hook_details(value: Any) -> None:
    # GIVEN a sample event with a configured hookDetails of any JSON type
    event = {**_sample("POST_TEST_TRAFFIC_SHIFT"), "hookDetails": value}
    # WHEN / THEN it is what ECS may send
    assert problems_with_ecs_hook_event(event, stage="POST_TEST_TRAFFIC_SHIFT") == []


def test_contract_checker_accepts_a_linear_step() -> None:
    # GIVEN PRODUCTION_TRAFFIC_SHIFT at a LINEAR step (green at 30%)
    event = _set_weights(_sample("PRODUCTION_TRAFFIC_SHIFT"), "productionTrafficWeights", 30)
    # WHEN / THEN it is what ECS sends
    assert problems_with_ecs_hook_event(event, stage="PRODUCTION_TRAFFIC_SHIFT") == []


@pytest.mark.parametrize("example", fixture("ecs_hook_response")["examples"])
def test_contract_documented_answers_pass_the_response_check(example: dict[str, Any]) -> None:
    assert problems_with_ecs_hook_response(example) == []


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({"hookStatus": "SUCCESS"}, "is not one of"),
        ({"status": "SUCCEEDED"}, "does not document"),
        ({"hookStatus": "IN_PROGRESS", "callBackDelay": "30"}, "whole seconds"),
        ({"hookStatus": "IN_PROGRESS", "hookDetails": "x"}, "expected an object"),
    ],
)
def test_contract_response_check_names_each_difference(answer: dict[str, Any], words: str) -> None:
    assert any(words in p for p in problems_with_ecs_hook_response(answer))
