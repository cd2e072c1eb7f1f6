"""Property: whatever a hook is invoked with, it is a valid event or a clear error, and nothing is probed.

The CodeDeploy handler raises InvalidEventError naming the fields that are missing or malformed before
it touches AWS or any network; the ECS handler answers FAILED with the reason (it never raises).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from greenlight.handlers import codedeploy, ecs
from greenlight.handlers.inputs import InvalidEventError

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40), st.binary(max_size=8)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)),
    max_leaves=12,
)
CODEDEPLOY_FIELDS = ("DeploymentId", "LifecycleEventHookExecutionId")
CODEDEPLOY_EVENTS = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {},
        optional={
            "DeploymentId": st.one_of(JSON, st.from_regex(r"d-[A-Z0-9]{9}", fullmatch=True)),
            "LifecycleEventHookExecutionId": st.one_of(JSON, st.text(min_size=1, max_size=50)),
        },
    ),
)
ECS_EVENTS = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {},
        optional={
            "executionId": JSON,
            "lifecycleStage": st.one_of(st.sampled_from(["POST_TEST_TRAFFIC_SHIFT", "post_scale_up"]), JSON),
            "resourceArn": st.one_of(st.just("arn:aws:ecs:us-east-1:123456789012:service-deployment/c/s/abc"), JSON),
            "executionDetails": st.one_of(
                JSON,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "serviceArn": st.one_of(st.just("arn:aws:ecs:us-east-1:123456789012:service/c/s"), JSON),
                        "targetServiceRevisionArn": JSON,
                        "testTrafficWeights": JSON,
                        "productionTrafficWeights": JSON,
                    },
                ),
            ),
            "hookDetails": JSON,
        },
    ),
)


class NoAws:
    """Stands in for AWS where no call may happen: any use fails the test (nothing real can be asked here)."""

    def client(self, service: str) -> Any:
        raise AssertionError(f"an invalid event reached AWS ({service})")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"an invalid event reached AWS ({name})")


@given(event=CODEDEPLOY_EVENTS)
@example(event={})
@example(event={"key1": "value1", "key2": "value2", "key3": "value3"})
@example(event={"DeploymentId": "d-ABCDEFGHI", "LifecycleEventHookExecutionId": ""})
def test_codedeploy_event_is_parsed_or_rejected_naming_the_fields(event: Any) -> None:
    # GIVEN any invocation payload / WHEN the CodeDeploy handler parses it
    try:
        deployment_id, execution_id = codedeploy.parse_event(event)
    except InvalidEventError as exc:
        # THEN a rejection names each field that is wrong (or says the payload is not an object)...
        message = str(exc)
        if isinstance(event, dict):
            assert any(field in message for field in CODEDEPLOY_FIELDS), message
        else:
            assert "a JSON object" in message, message
        # ... and the handler raises the same error before any AWS call (so nothing is probed either)
        with pytest.raises(InvalidEventError):
            codedeploy.handle(event, None, aws=NoAws(), env={})
        return
    # THEN an accepted event has both ids as the strings it carried
    assert isinstance(event, dict)
    assert (deployment_id, execution_id) == (event["DeploymentId"], event["LifecycleEventHookExecutionId"])


@given(event=ECS_EVENTS)
@example(event={})
@example(event={"DeploymentId": "d-ABCDEFGHI", "LifecycleEventHookExecutionId": "x"})
def test_ecs_event_is_parsed_or_answered_failed_naming_the_fields(event: Any) -> None:
    # GIVEN any invocation payload / WHEN the ECS handler parses it
    try:
        ecs.parse_event(event)
    except InvalidEventError as exc:
        # THEN the rejection says what is wrong, and the handler answers FAILED without touching AWS
        message = str(exc)
        assert message.startswith(("not an ECS lifecycle hook event", "expected an ECS", "this is a CodeDeploy"))
        answer = ecs.handle(event, None, aws=NoAws(), env={})
        assert answer["hookStatus"] == "FAILED"
        return
    assert isinstance(event, dict)
