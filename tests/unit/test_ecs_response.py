"""What the ECS hook returns: always a response ECS accepts, whatever the event and hookDetails hold."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenlight.handlers.ecs import handle
from greenlight.reporting.ecs import (
    FAILED,
    IN_PROGRESS,
    MAX_CALLBACK_DELAY,
    MAX_DETAILS_BYTES,
    SUCCEEDED,
    ResponseError,
    callback_delay,
    failure,
    respond,
    validate_response,
)
from greenlight.reporting.ecs_state import STATE_KEY

EVENTS = Path(__file__).resolve().parents[2] / "events"
PROGRESS = {STATE_KEY: {"v": 1}}


@pytest.mark.parametrize(
    ("response", "words"),
    [
        ([], "response: expected an object"),
        ({}, "hookStatus: expected one of SUCCEEDED, FAILED, IN_PROGRESS, got None"),
        ({"hookStatus": "Succeeded"}, "got 'Succeeded'"),
        ({"hookStatus": SUCCEEDED, "status": 1}, "unknown field(s) status"),
        ({"hookStatus": SUCCEEDED, "callBackDelay": 5}, "only an IN_PROGRESS answer has one"),
        ({"hookStatus": IN_PROGRESS, "callBackDelay": 2.5, "hookDetails": PROGRESS}, "expected whole seconds"),
        ({"hookStatus": IN_PROGRESS, "callBackDelay": True, "hookDetails": PROGRESS}, "expected whole seconds"),
        ({"hookStatus": IN_PROGRESS, "callBackDelay": 0, "hookDetails": PROGRESS}, "outside 1..900"),
        ({"hookStatus": IN_PROGRESS, "callBackDelay": 901, "hookDetails": PROGRESS}, "outside 1..900"),
        ({"hookStatus": IN_PROGRESS, "callBackDelay": 5}, "must carry the progress to resume"),
        ({"hookStatus": FAILED, "hookDetails": "x"}, "hookDetails: expected an object"),
        ({"hookStatus": FAILED, "hookDetails": {"k": object()}}, "hookDetails: not JSON"),
        ({"hookStatus": FAILED, "hookDetails": {"k": "x" * MAX_DETAILS_BYTES}}, "-byte bound"),
    ],
)
def test_ecs_response_invalid_is_named(response: Any, words: str) -> None:
    # GIVEN an answer ECS would not take (or one past greenlight's bound)
    # WHEN it is validated
    with pytest.raises(ResponseError) as caught:
        validate_response(response)
    # THEN the field is named
    assert words in str(caught.value)


def test_ecs_response_respond_replaces_an_invalid_answer_with_failed() -> None:
    # GIVEN an answer that would break the contract (a delay on a final answer)
    # WHEN it is built
    out = respond(SUCCEEDED, {STATE_KEY: {"v": 1}}, delay=30)
    # THEN FAILED goes back instead, saying why, and that answer is valid
    assert out["hookStatus"] == FAILED
    assert "callBackDelay" in out["hookDetails"][STATE_KEY]["reason"]
    validate_response(out)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(-5.0, 1), (0.0, 1), (0.2, 1), (1.0, 1), (1.01, 2), (29.5, 30), (900.0, 900), (5000.0, 900), (math.inf, 900)],
)
def test_ecs_response_callback_delay_is_clamped(seconds: float, expected: int) -> None:
    # GIVEN the time until the next due measurement
    # WHEN it becomes a callBackDelay
    # THEN it is whole seconds, rounded up, within 1..900
    assert callback_delay(seconds) == expected
    assert 1 <= callback_delay(seconds) <= MAX_CALLBACK_DELAY


@given(st.text(max_size=5000), st.dictionaries(st.sampled_from(["stage", "executionId", "x"]), st.text(max_size=3000)))
def test_ecs_response_failure_is_always_valid(reason: str, extra: dict[str, str]) -> None:
    # GIVEN any reason and identity fields
    # WHEN the answer of last resort is built
    out = failure(reason, extra)
    # THEN ECS accepts it and it says FAILED
    validate_response(out)
    assert out["hookStatus"] == FAILED
    json.dumps(out)


def _spec(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "spec.yaml"
    # No checks for any stage: whatever the event, nothing is probed and no AWS API is called.
    path.write_text("version: 1\nhooks: {}\n")
    return {"GREENLIGHT_SPEC": str(path)}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(event=_JSON)
def test_ecs_response_any_event_gets_a_valid_answer(tmp_path: Path, event: Any) -> None:
    # GIVEN any JSON value as the event
    # WHEN the handler answers it
    out = handle(event, None, env=_spec(tmp_path))
    # THEN the answer is valid, and anything that is not an event is FAILED with a reason
    validate_response(out)
    if not isinstance(event, dict) or "executionId" not in event:
        assert out["hookStatus"] == FAILED
        assert out["hookDetails"][STATE_KEY]["reason"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(state=_JSON | st.fixed_dictionaries({"v": st.just(1)}, optional={"stage": _JSON, "checks": _JSON}))
def test_ecs_response_any_hook_details_get_a_valid_answer(tmp_path: Path, state: Any) -> None:
    # GIVEN a real event whose hookDetails.greenlight holds anything at all
    event = json.loads((EVENTS / "ecs-POST_TEST_TRAFFIC_SHIFT.json").read_text())
    event["hookDetails"] = {STATE_KEY: state}
    # WHEN the handler answers it
    out = handle(event, None, env=_spec(tmp_path))
    # THEN the answer is valid; garbage is FAILED with a reason naming hookDetails.greenlight
    validate_response(out)
    if out["hookStatus"] == FAILED:
        assert "hookDetails.greenlight" in out["hookDetails"][STATE_KEY]["reason"]
