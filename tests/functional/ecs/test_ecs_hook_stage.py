"""The ECS hook end to end: a stage's checks against real servers behind listeners discovered on the twin."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import pytest

from greenlight.handlers.ecs import handle
from greenlight.reporting.ecs import FAILED, IN_PROGRESS, SUCCEEDED, validate_response
from greenlight.reporting.ecs_state import STATE_KEY
from support.servers import Reply, Responder

HOME = {"name": "home", "http": {"path": "/", "expect": {"status": 200, "body_contains": "2.0.0"}}}


def _details(out: dict[str, Any]) -> dict[str, Any]:
    validate_response(out)
    details: dict[str, Any] = out["hookDetails"][STATE_KEY]
    return details


def _check(count: int, interval: float = 0.05, **more: Any) -> dict[str, Any]:
    return {**HOME, "count": count, "interval": interval, "timeout": 0.5, **more}


def run_to_end(ecs_world: Any, event: dict[str, Any], env: dict[str, str], context: Callable[[], Any]) -> list[dict]:
    """Invoke as ECS does: each IN_PROGRESS answer's hookDetails merged into the next event, until a final one."""
    answers = []
    event = copy.deepcopy(event)
    for _ in range(100):
        out = handle(event, context(), aws=ecs_world.aws, env=env)
        validate_response(out)
        answers.append(out)
        if out["hookStatus"] != IN_PROGRESS:
            return answers
        event["hookDetails"] = {**event.get("hookDetails", {}), **out["hookDetails"]}
    raise AssertionError("no final answer after 100 invocations")


@pytest.fixture
def context(lambda_context: Callable[..., Any]) -> Any:
    return lambda_context()


def test_ecs_hook_stage_passes(ecs_world: Any, spec_env: Callable[..., dict[str, str]], context: Any) -> None:
    # GIVEN green answering well behind the test listener, and a spec with a check on POST_TEST_TRAFFIC_SHIFT
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [_check(3)]})
    # WHEN ECS invokes the hook at that stage
    out = handle(ecs_world.event(), context, aws=ecs_world.aws, env=env)
    # THEN SUCCEEDED; the probes went to the discovered test listener only, as greenlight
    details = _details(out)
    assert out["hookStatus"] == SUCCEEDED and details["verdict"] == "PASSED"
    assert details["results"]["home"] == {"s": "PASS", "t": [3, 3, 0, 0, 3, 0]}
    assert len(ecs_world.test.requests) == 3 and ecs_world.prod.requests == []
    assert ecs_world.test.requests[0].header("user-agent").startswith("greenlight/")
    # AND discovery called each API at most once
    assert ecs_world.calls and max(ecs_world.calls.values()) == 1, ecs_world.calls


def test_ecs_hook_stage_fails(ecs_world: Any, spec_env: Callable[..., dict[str, str]], context: Any) -> None:
    # GIVEN green answering 503 behind the test listener
    ecs_world.test.set(None, Reply(503, body="starting"))
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [_check(3)]})
    # WHEN the hook runs
    out = handle(ecs_world.event(), context, aws=ecs_world.aws, env=env)
    # THEN FAILED, at the first failure, with the reason in hookDetails
    details = _details(out)
    assert out["hookStatus"] == FAILED and details["verdict"] == "FAILED"
    assert "home" in details["reason"] and "status 503, expected 200" in details["reason"]
    assert details["results"]["home"] == {"s": "FAIL", "t": [1, 0, 1, 0, 0, 0]}


def test_ecs_hook_stage_uses_codedeploy_keyed_spec(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], context: Any
) -> None:
    # GIVEN a spec written for CodeDeploy (AfterAllowTestTraffic), used unchanged
    env = spec_env({"AfterAllowTestTraffic": [_check(2)]})
    # WHEN the ECS hook runs at the equivalent stage
    out = handle(ecs_world.event("POST_TEST_TRAFFIC_SHIFT"), context, aws=ecs_world.aws, env=env)
    # THEN the same checks run and pass
    assert out["hookStatus"] == SUCCEEDED and _details(out)["results"]["home"]["s"] == "PASS"
    assert len(ecs_world.test.requests) == 2


def test_ecs_hook_stage_in_progress_then_succeeded(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any]
) -> None:
    # GIVEN a check of 40 measurements (4 s of intervals), and a function with less time per invocation (5 s,
    # which still leaves room for one measurement when discovery is slow on a loaded machine)
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [_check(40, interval=0.1)]})
    # WHEN ECS invokes it, calling again after each IN_PROGRESS with the returned hookDetails
    answers = run_to_end(ecs_world, ecs_world.event(), env, lambda: lambda_context(5_000))
    # THEN IN_PROGRESS first, then SUCCEEDED; every measurement was made exactly once
    assert [a["hookStatus"] for a in answers[:-1]] == [IN_PROGRESS] * (len(answers) - 1) and len(answers) >= 2
    assert answers[-1]["hookStatus"] == SUCCEEDED
    assert all(1 <= a["callBackDelay"] <= 900 for a in answers[:-1])
    assert _details(answers[-1])["results"]["home"]["t"] == [40, 40, 0, 0, 40, 0]
    assert len(ecs_world.test.requests) == 40
    print(f"40 measurements over {len(answers)} invocations")


@pytest.mark.parametrize(("failure_limit", "status"), [(10, SUCCEEDED), (9, FAILED)])
def test_ecs_hook_stage_split_verdict_equals_uninterrupted(
    ecs_world: Any,
    spec_env: Callable[..., dict[str, str]],
    every_nth_fails: Callable[..., Responder],
    lambda_context: Callable[..., Any],
    failure_limit: int,
    status: str,
) -> None:
    # GIVEN green failing every 4th request, and a check of 40 measurements tolerating `failure_limit` failures
    # (6 s of intervals: 4 s invocations split it, with room for one measurement when discovery is slow)
    check = _check(40, interval=0.15, timeout=0.2, failure_limit=failure_limit)
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [check]})
    # WHEN it runs once uninterrupted, then again from scratch split over short invocations
    ecs_world.test.set(None, every_nth_fails(4))
    whole = run_to_end(ecs_world, ecs_world.event(execution_id="whole"), env, lambda: lambda_context(120_000))
    ecs_world.test.set(None, every_nth_fails(4))
    split = run_to_end(ecs_world, ecs_world.event(execution_id="split"), env, lambda: lambda_context(4_000))
    # THEN the verdicts and tallies are the same
    assert len(whole) == 1 and len(split) >= 3
    one, many = _details(whole[-1]), _details(split[-1])
    assert whole[-1]["hookStatus"] == split[-1]["hookStatus"] == status
    assert one["verdict"] == many["verdict"]
    assert one["results"] == many["results"]
    assert one["results"]["home"]["t"][:4] == [40, 30, 10, 0]
    print(f"failure_limit {failure_limit}: {status} with tally {many['results']['home']['t']} in {len(split)} calls")


def test_ecs_hook_stage_linear_step_weights_reach_checks_and_report(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], context: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a LINEAR step of PRODUCTION_TRAFFIC_SHIFT (green at 30% of production), checked on the prod listener
    check = {**_check(1), "http": {"path": "/", "listener": "prod"}}
    env = spec_env({"PRODUCTION_TRAFFIC_SHIFT": [check]})
    event = ecs_world.event("PRODUCTION_TRAFFIC_SHIFT", production=(70.0, 30.0))
    # WHEN the hook runs
    with caplog.at_level(logging.INFO, logger="greenlight.handler"):
        out = handle(event, context, aws=ecs_world.aws, env=env)
    # THEN it probes production, and the report context carries the step's weights and green's side
    assert out["hookStatus"] == SUCCEEDED and len(ecs_world.prod.requests) == 1
    verdicts = [r for r in caplog.records if getattr(r, "verdict", None) and hasattr(r, "context")]
    weights = verdicts[-1].context["traffic_weights"]
    assert weights["target_weight"] == 30.0 and weights["target_test_weight"] is None and weights["test"] is None
    assert weights["production"][ecs_world.world.blue_revision_arn] == 70.0
    green = verdicts[-1].context["deployment"]["green"]
    assert green["traffic_weight"] == 30.0 and green["target_group_arn"] == ecs_world.world.green_tg_arn


def test_ecs_hook_stage_lambda_entry_point(
    ecs_world: Any,
    spec_env: Callable[..., dict[str, str]],
    context: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the function as Lambda runs it: settings in the environment, boto3 reaching AWS (the twin) by itself
    for name, value in spec_env({"POST_TEST_TRAFFIC_SHIFT": [_check(2)]}).items():
        monkeypatch.setenv(name, value)
    from greenlight.handlers import ecs

    # WHEN ECS invokes the decorated entry point
    out = ecs.handler(ecs_world.event(), context)
    # THEN the answer is valid and SUCCEEDED, and the metrics went out in EMF
    assert out["hookStatus"] == SUCCEEDED and _details(out)["verdict"] == "PASSED"
    assert len(ecs_world.test.requests) == 2
    emitted = capsys.readouterr().out
    assert '"HookSucceeded"' in emitted and '"ChecksPassed"' in emitted
