"""The hookDetails codec of ECS native hooks: round trips, the size bound, stale and corrupted state."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenlight.engine.model import CheckState, Status, Tally
from greenlight.reporting.ecs_state import (
    MAX_STATE_BYTES,
    STATE_KEY,
    HookState,
    Identity,
    StateError,
    StateTooLargeError,
    decode,
    encode,
    result_entry,
    size_of,
)

NOW = 1_767_225_600.0
TARGET = "arn:aws:ecs:us-east-1:123456789012:service-revision/demo/web/4980306466373577095"
DEPLOYMENT = "arn:aws:ecs:us-east-1:123456789012:service-deployment/demo/web/TFX5sH9q9XDboDTOv0rIt"
IDENTITY = Identity("POST_TEST_TRAFFIC_SHIFT", DEPLOYMENT, TARGET, (100.0, None), "exec-1")


def _state(**checks: CheckState) -> HookState:
    return HookState(IDENTITY, 2, NOW - 30, checks)


def _valid_doc() -> dict[str, Any]:
    return encode(_state(home=CheckState(Tally(5, 4, 1, 0, 2, 0), NOW + 10, "status 503")))


def test_ecs_state_round_trip() -> None:
    # GIVEN progress of two checks
    state = _state(
        home=CheckState(Tally(5, 4, 1, 0, 2, 0), NOW + 10.5, "status 503, expected 200"),
        health=CheckState(Tally(3, 1, 0, 2, 0, 2), NOW + 2, None),
    )
    # WHEN it is encoded, carried as JSON and decoded
    doc = encode(state)
    back = decode({STATE_KEY: doc, "userKey": "kept by ECS"}, now=NOW)
    # THEN everything needed to resume comes back unchanged
    assert back == state
    assert doc["v"] == 1 and doc["stage"] == "POST_TEST_TRAFFIC_SHIFT" and doc["round"] == 2
    assert doc["checks"]["home"] == {"t": [5, 4, 1, 0, 2, 0], "n": NOW + 10.5, "b": "status 503, expected 200"}


def test_ecs_state_final_answer_round_trip() -> None:
    # GIVEN a final answer
    state = HookState(
        IDENTITY,
        4,
        NOW - 100,
        verdict="FAILED",
        status="FAILED",
        reason="FAILED: home: 4 failed measurement(s)",
        results={"home": result_entry("FAIL", Tally(9, 5, 4, 0, 0, 0))},
    )
    # WHEN it is encoded and decoded
    back = decode({STATE_KEY: encode(state)}, now=NOW)
    # THEN it is recognised as final, with its status, reason and tallies
    assert back is not None and back.final
    assert back == state


def test_ecs_state_absent_is_none() -> None:
    # GIVEN hookDetails without greenlight's key (only what a service definition configured)
    # WHEN it is decoded
    # THEN there is no state: a fresh start
    assert decode({"S3_BUCKET": "approvals"}, now=NOW) is None
    assert decode({}, now=NOW) is None
    assert decode(None, now=NOW) is None


def test_ecs_state_many_checks_fit_by_truncating_reasons() -> None:
    # GIVEN 60 checks, each with a long last-bad reason (far more than the bound if kept whole)
    reason = "status 503, expected 200; body does not contain 'ok'; " * 20
    checks = {f"check-number-{i:04d}": CheckState(Tally(90, 80, 5, 5, 0, 1), NOW + i, reason) for i in range(60)}
    state = _state(**checks)
    # WHEN it is encoded
    doc = encode(state)
    # THEN it fits the bound, reasons were shortened, and every tally survives exactly
    assert size_of(doc) <= MAX_STATE_BYTES
    back = decode({STATE_KEY: doc}, now=NOW)
    assert back is not None
    assert {k: v.tally for k, v in back.checks.items()} == {k: v.tally for k, v in checks.items()}
    kept = [v.last_bad for v in back.checks.values()]
    assert all(b is None or (len(b) <= 200 and b.endswith("…")) for b in kept)
    print(f"60 checks: {size_of(doc)} bytes of hookDetails (bound {MAX_STATE_BYTES})")


def test_ecs_state_too_many_checks_is_refused() -> None:
    # GIVEN more checks than can fit even without reasons
    checks = {f"a-rather-long-check-name-{i:05d}": CheckState(Tally(9, 9, 0, 0, 9, 0), NOW) for i in range(400)}
    # WHEN it is encoded
    with pytest.raises(StateTooLargeError) as caught:
        encode(_state(**checks))
    # THEN the error says how many checks, the bound, and what to do
    message = str(caught.value)
    assert "400 check(s)" in message and str(MAX_STATE_BYTES) in message and "fewer checks" in message


def test_ecs_state_final_answer_always_fits() -> None:
    # GIVEN a final answer with a huge reason and many results
    results = {f"check-{i:05d}": result_entry("PASS", Tally(9, 9, 0, 0, 9, 0)) for i in range(500)}
    state = HookState(IDENTITY, 1, NOW, verdict="PASSED", status="SUCCEEDED", reason="x" * 50_000, results=results)
    # WHEN it is encoded
    doc = encode(state)
    # THEN it fits, still carries verdict and status, and decodes
    assert size_of(doc) <= MAX_STATE_BYTES
    back = decode({STATE_KEY: doc}, now=NOW)
    assert back is not None and back.verdict == "PASSED" and back.status == "SUCCEEDED"


@pytest.mark.parametrize(
    ("field", "change", "words"),
    [
        ("<root>", "garbage", "hookDetails.greenlight: expected an object written by greenlight, got str"),
        ("v", 2, "hookDetails.greenlight.v: unknown state version 2"),
        ("v", None, "hookDetails.greenlight.v: unknown state version None"),
        ("v", True, "hookDetails.greenlight.v: unknown state version True"),
        ("stage", 7, "hookDetails.greenlight.stage: expected a non-empty string"),
        ("executionId", "", "hookDetails.greenlight.executionId: expected a non-empty string"),
        ("round", 0, "hookDetails.greenlight.round: expected an integer >= 1"),
        ("round", "3", "hookDetails.greenlight.round: expected an integer >= 1"),
        ("started_at", "yesterday", "hookDetails.greenlight.started_at: expected a number, got str"),
        ("started_at", NOW + 86_400, "hookDetails.greenlight.started_at: 1767312000 is 86400s in the future"),
        ("w", [100], "hookDetails.greenlight.w: expected [test, production] weights"),
        ("checks", [], "hookDetails.greenlight.checks: expected an object of check name -> progress, got list"),
        ("checks.home", 5, "hookDetails.greenlight.checks.home: expected an object with 't' and 'n', got int"),
        ("checks.home.t", [1, 2, 3], "hookDetails.greenlight.checks.home.t: expected [taken, passes"),
        ("checks.home.t", [5, 4, 1, 0, 2, -1], "hookDetails.greenlight.checks.home.t[5]: expected an integer >= 0"),
        ("checks.home.t", [5, 1, 1, 0, 0, 0], "passes+fails+errors (2) != taken 5"),
        ("checks.home.t", [2, 1, 0, 1, 1, 1], "passes and errors cannot both be the last measurements"),
        ("checks.home.t", [2, 2, 0, 0, 3, 0], "a run in a row is longer than its total"),
        ("checks.home.n", "soon", "hookDetails.greenlight.checks.home.n: expected a number, got str"),
        ("checks.home.b", 42, "hookDetails.greenlight.checks.home.b: expected a string, got int"),
        ("checks.home.x", 1, "hookDetails.greenlight.checks.home: unknown field(s) x"),
    ],
)
def test_ecs_state_corrupted_names_the_field(field: str, change: Any, words: str) -> None:
    # GIVEN a valid state with one field broken
    doc: Any = _valid_doc()
    if field == "<root>":
        doc = change
    else:
        *parents, last = field.split(".")
        node = doc
        for part in parents:
            node = node[part]
        node[last] = change
    # WHEN it is decoded
    with pytest.raises(StateError) as caught:
        decode({STATE_KEY: doc}, now=NOW)
    # THEN the error names the field and what was expected
    assert words in str(caught.value)


def test_ecs_state_missing_fields_are_named() -> None:
    for field in ("stage", "resourceArn", "targetServiceRevisionArn", "w", "round", "started_at", "checks"):
        # GIVEN a progress state without one of its fields
        doc = _valid_doc()
        del doc[field]
        # WHEN it is decoded
        with pytest.raises(StateError) as caught:
            decode({STATE_KEY: doc}, now=NOW)
        # THEN the field is named
        assert f"hookDetails.greenlight.{field}" in str(caught.value)


@pytest.mark.parametrize(
    ("other", "words"),
    [
        (Identity("PRODUCTION_TRAFFIC_SHIFT", DEPLOYMENT, TARGET, (100.0, None), "exec-1"), "stage"),
        (Identity("POST_TEST_TRAFFIC_SHIFT", DEPLOYMENT + "X", TARGET, (100.0, None), "exec-1"), "resourceArn"),
        (Identity("POST_TEST_TRAFFIC_SHIFT", DEPLOYMENT, TARGET + "9", (100.0, None)), "targetServiceRevisionArn"),
        (Identity("POST_TEST_TRAFFIC_SHIFT", DEPLOYMENT, TARGET, (100.0, 10.0), "exec-1"), "traffic weights"),
    ],
)
def test_ecs_state_identity_tells_another_validation(other: Identity, words: str) -> None:
    # GIVEN the identity of this invocation and that of a state written for another
    # WHEN they are compared
    why = IDENTITY.differs(other)
    # THEN the difference is named; the same identity has none
    assert why is not None and why.startswith(words)
    assert IDENTITY.differs(copy.deepcopy(IDENTITY)) is None


def test_ecs_state_identity_ignores_execution_id() -> None:
    # GIVEN the same validation invoked again under another executionId (AWS does not say it repeats)
    other = Identity(IDENTITY.stage, IDENTITY.deployment_arn, IDENTITY.target_revision_arn, IDENTITY.weights, "exec-9")
    # WHEN they are compared, and a state written by the first is read back
    back = decode({STATE_KEY: encode(HookState(IDENTITY, 1, NOW - 5, {}))}, now=NOW)
    # THEN they are the same validation, and the executionId written is kept for the logs only
    assert IDENTITY.differs(other) is None
    assert back is not None and back.identity.execution_id == "exec-1" and back.identity.differs(other) is None


_TALLIES = st.lists(st.sampled_from([Status.PASS, Status.FAIL, Status.ERROR]), max_size=90).map(Tally.of)


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z0-9_.:-]{1,40}", fullmatch=True),
        st.tuples(_TALLIES, st.floats(0, 4e9, allow_nan=False), st.none() | st.text(max_size=400)),
        max_size=40,
    )
)
def test_ecs_state_any_progress_round_trips_within_bound(checks: dict[str, Any]) -> None:
    # GIVEN any progress of up to 40 checks
    state = HookState(IDENTITY, 1, time.time(), {k: CheckState(t, round(n, 3), b) for k, (t, n, b) in checks.items()})
    # WHEN it is encoded and decoded
    doc = encode(state)
    back = decode({STATE_KEY: doc}, now=time.time())
    # THEN it fits the bound and the tallies and times come back exactly
    assert size_of(doc) <= MAX_STATE_BYTES
    assert back is not None
    assert {k: (v.tally, v.next_at) for k, v in back.checks.items()} == {
        k: (v.tally, v.next_at) for k, v in state.checks.items()
    }
