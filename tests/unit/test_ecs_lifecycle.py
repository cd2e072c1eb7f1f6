"""One spec for both controllers: the CodeDeploy hook <-> ECS stage mapping, and which checks a stage runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from greenlight import lifecycle
from greenlight.handlers.ecs import parse_event
from greenlight.handlers.inputs import InvalidEventError
from greenlight.spec import load_text

EVENTS = Path(__file__).resolve().parents[2] / "events"

SPEC = """
version: 1
target: {test_url: "http://127.0.0.1:9080", prod_url: "http://127.0.0.1:8080"}
hooks:
  AfterAllowTestTraffic:
    - {name: by-codedeploy-name, http: {path: /}}
  POST_TEST_TRAFFIC_SHIFT:
    - {name: by-ecs-name, http: {path: /health}}
  BeforeAllowTraffic:
    - {name: before-traffic, http: {path: /}}
  RECONCILE_SERVICE:
    - {name: reconcile, http: {path: /}}
"""


@pytest.mark.parametrize(
    ("hook", "stage"),
    [
        ("BeforeInstall", "PRE_SCALE_UP"),
        ("AfterInstall", "POST_SCALE_UP"),
        ("AfterAllowTestTraffic", "POST_TEST_TRAFFIC_SHIFT"),
        # BeforeAllowTraffic runs before production moves: PRE_PRODUCTION_TRAFFIC_SHIFT, not PRODUCTION_TRAFFIC_SHIFT
        ("BeforeAllowTraffic", "PRE_PRODUCTION_TRAFFIC_SHIFT"),
        ("AfterAllowTraffic", "POST_PRODUCTION_TRAFFIC_SHIFT"),
    ],
)
def test_ecs_lifecycle_mapping_both_ways(hook: str, stage: str) -> None:
    # GIVEN a CodeDeploy hook and the ECS stage where the same is true of green
    # WHEN each is mapped
    # THEN each maps to the other
    assert lifecycle.CODEDEPLOY_TO_ECS[hook] == stage
    assert lifecycle.ECS_TO_CODEDEPLOY[stage] == hook
    assert lifecycle.equivalent(hook) == stage
    assert lifecycle.equivalent(stage) == hook


def test_ecs_lifecycle_stages_without_equivalent() -> None:
    # GIVEN the ECS stages CodeDeploy has no hook for
    # WHEN their equivalent is asked
    # THEN there is none, and every CodeDeploy hook has one
    unmapped = [s for s in lifecycle.ECS_STAGES if lifecycle.equivalent(s) is None]
    assert unmapped == ["RECONCILE_SERVICE", "TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"]
    assert all(lifecycle.equivalent(h) for h in lifecycle.CODEDEPLOY_HOOKS)


def test_ecs_lifecycle_own_key_wins_over_equivalent() -> None:
    # GIVEN a spec with checks under both AfterAllowTestTraffic and POST_TEST_TRAFFIC_SHIFT
    spec = load_text(SPEC, env={})
    # WHEN each controller asks for its own name
    # THEN each gets the checks under its own key, not the other's
    assert [c.name for c in spec.checks_for("POST_TEST_TRAFFIC_SHIFT")] == ["by-ecs-name"]
    assert [c.name for c in spec.checks_for("AfterAllowTestTraffic")] == ["by-codedeploy-name"]
    assert lifecycle.checks_for(spec.hooks, "POST_TEST_TRAFFIC_SHIFT")[0] == "POST_TEST_TRAFFIC_SHIFT"


def test_ecs_lifecycle_falls_back_to_equivalent_key() -> None:
    # GIVEN a spec keyed by CodeDeploy names only for the production shift
    spec = load_text(SPEC, env={})
    # WHEN the ECS stage asks
    key, checks = lifecycle.checks_for(spec.hooks, "PRE_PRODUCTION_TRAFFIC_SHIFT")
    # THEN it runs the checks of the equivalent CodeDeploy hook, and says which key it used
    assert key == "BeforeAllowTraffic"
    assert [c.name for c in checks] == ["before-traffic"]
    # AND an ECS-only stage runs its own checks, a stage with nothing configured runs none, and the stage
    # where production already moves does not borrow BeforeAllowTraffic's checks
    assert [c.name for c in spec.checks_for("RECONCILE_SERVICE")] == ["reconcile"]
    assert spec.checks_for("PRE_SCALE_UP") == ()
    assert spec.checks_for("PRODUCTION_TRAFFIC_SHIFT") == ()


def test_ecs_lifecycle_spec_rejects_unknown_stage_name() -> None:
    # GIVEN a spec with a misspelt ECS stage
    from greenlight.spec import SpecError

    # WHEN it is loaded
    with pytest.raises(SpecError) as caught:
        load_text("version: 1\nhooks:\n  POST_TEST_TRAFIC_SHIFT: []\n", env={})
    # THEN the problem names the key and suggests the right one
    assert "POST_TEST_TRAFIC_SHIFT" in str(caught.value)
    assert "POST_TEST_TRAFFIC_SHIFT" in str(caught.value)


@pytest.mark.parametrize("path", sorted(EVENTS.glob("ecs-*.json")), ids=lambda p: p.stem)
def test_ecs_lifecycle_sample_events_parse(path: Path) -> None:
    # GIVEN a sample event shipped in events/
    raw = json.loads(path.read_text())
    # WHEN it is parsed
    event = parse_event(raw)
    # THEN its stage is an ECS stage and its file name says which, and the rollback sample is recognised
    # (a first deployment is not visible in the event: DescribeServiceDeployments tells it)
    assert event.stage in lifecycle.ECS_STAGES
    assert path.stem.endswith(event.stage)
    assert event.rollback == ("rollback" in path.stem)
    assert "hookDetails" not in raw and event.resumable


def test_ecs_lifecycle_every_stage_has_a_sample_event() -> None:
    # GIVEN the events folder
    # WHEN its ECS samples are listed
    names = {p.stem for p in EVENTS.glob("ecs-*.json")}
    # THEN every stage has one, plus the rollback and first-deployment samples
    assert {f"ecs-{s}" for s in lifecycle.ECS_STAGES} <= names
    assert {"ecs-rollback-PRODUCTION_TRAFFIC_SHIFT", "ecs-first-deployment-POST_SCALE_UP"} <= names


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ({"DeploymentId": "d-ABCDEFGHI", "LifecycleEventHookExecutionId": "x"}, "CodeDeploy lifecycle hook event"),
        ({}, "executionId is missing; lifecycleStage is missing"),
        ({"executionId": "x", "lifecycleStage": "POST_TEST_TRAFIC_SHIFT"}, "did you mean 'POST_TEST_TRAFFIC_SHIFT'"),
        ({"executionId": "x", "lifecycleStage": "PRE_SCALE_UP", "resourceArn": "nope"}, "resourceArn 'nope' is not"),
        (
            {"executionId": "x", "lifecycleStage": "PRE_SCALE_UP", "executionDetails": {"testTrafficWeights": []}},
            "executionDetails.testTrafficWeights is not an object",
        ),
        ([], "got list"),
    ],
)
def test_ecs_lifecycle_malformed_event_names_the_problem(event: object, words: str) -> None:
    # GIVEN a malformed event
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(event)
    # THEN the error names what is wrong
    assert words in str(caught.value)


def test_ecs_lifecycle_weight_out_of_range_is_named() -> None:
    # GIVEN a sample event whose production weight is not a percentage
    raw = json.loads((EVENTS / "ecs-PRODUCTION_TRAFFIC_SHIFT.json").read_text())
    arn = raw["executionDetails"]["targetServiceRevisionArn"]
    raw["executionDetails"]["productionTrafficWeights"][arn] = 140
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN the field and the value are named
    assert "productionTrafficWeights" in str(caught.value) and "140" in str(caught.value)


STAGE_MAPS = {
    # stage: (test map has entries, production map has entries), as the ECS Developer Guide's "Lifecycle
    # payloads" gives them
    "RECONCILE_SERVICE": (False, False),
    "PRE_SCALE_UP": (False, False),
    "POST_SCALE_UP": (False, False),
    "TEST_TRAFFIC_SHIFT": (True, False),
    "POST_TEST_TRAFFIC_SHIFT": (False, False),
    "PRE_PRODUCTION_TRAFFIC_SHIFT": (False, True),
    "PRODUCTION_TRAFFIC_SHIFT": (False, True),
    "POST_PRODUCTION_TRAFFIC_SHIFT": (False, False),
}


@pytest.mark.parametrize("stage", lifecycle.ECS_STAGES)
def test_ecs_lifecycle_traffic_weights_offered_per_stage(stage: str) -> None:
    # GIVEN the sample event of a stage, with maps filled only where ECS shifts traffic
    event = parse_event(json.loads((EVENTS / f"ecs-{stage}.json").read_text()))
    # WHEN the weights offered to checks are read
    weights = event.traffic_weights()
    # THEN a map ECS sends empty is None, and green's weight is there only where its map names it
    has_test, has_production = STAGE_MAPS[stage]
    assert (weights["test"] is not None, weights["production"] is not None) == (has_test, has_production)
    assert weights["target_test_weight"] == (100.0 if has_test else None)
    expected = {"PRE_PRODUCTION_TRAFFIC_SHIFT": 0.0, "PRODUCTION_TRAFFIC_SHIFT": 100.0}.get(stage)
    assert weights["target_weight"] == expected
    assert not event.rollback


@pytest.mark.parametrize("value", ["a string", ["a", "list"], 42, 1.5, None, True, {"S3_BUCKET_NAME": "b"}])
def test_ecs_lifecycle_hook_details_any_json_value(value: object) -> None:
    # GIVEN an event whose configured hookDetails is any JSON value (the API types it as a document)
    raw = json.loads((EVENTS / "ecs-POST_TEST_TRAFFIC_SHIFT.json").read_text())
    raw["hookDetails"] = value
    # WHEN it is parsed
    event = parse_event(raw)
    # THEN it is accepted untouched; only an object can carry greenlight's progress between invocations
    assert event.hook_details == value
    assert event.resumable == isinstance(value, dict)
