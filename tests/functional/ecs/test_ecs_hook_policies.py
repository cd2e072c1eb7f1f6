"""Lifecycle edge cases of the ECS hook on the twin: rollback re-runs and the first deployment of a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from greenlight.handlers.ecs import handle
from greenlight.reporting.ecs import FAILED, SUCCEEDED, validate_response
from greenlight.reporting.ecs_state import STATE_KEY
from greenlight_twin import aws as twin
from support.servers import Reply

CHECK = {"name": "home", "http": {"path": "/"}, "count": 2, "interval": 0.05, "timeout": 0.5}
PROD_CHECK = {**CHECK, "http": {"path": "/", "listener": "prod"}}


def _details(out: dict[str, Any]) -> dict[str, Any]:
    validate_response(out)
    details: dict[str, Any] = out["hookDetails"][STATE_KEY]
    return details


def test_ecs_hook_policies_rollback_is_never_blocked(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any]
) -> None:
    # GIVEN green failing, and PRODUCTION_TRAFFIC_SHIFT invoked again for a rollback (green back at 0%)
    ecs_world.test.set(None, Reply(500))
    ecs_world.prod.set(None, Reply(500))
    env = spec_env({"PRODUCTION_TRAFFIC_SHIFT": [PROD_CHECK]})
    event = ecs_world.event("PRODUCTION_TRAFFIC_SHIFT", production=(100.0, 0.0))
    # WHEN the hook runs with the default on_rollback (pass)
    out = handle(event, lambda_context(), aws=ecs_world.aws, env=env)
    # THEN SUCCEEDED without probing and without calling AWS: nothing can block the rollback
    assert out["hookStatus"] == SUCCEEDED
    assert _details(out)["verdict"] == "SKIPPED" and "rollback" in _details(out)["reason"]
    assert ecs_world.prod.requests == [] and ecs_world.test.requests == []
    assert sum(ecs_world.calls.values()) == 0


def test_ecs_hook_policies_rollback_checked_when_asked(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any]
) -> None:
    # GIVEN the same rollback re-run with on_rollback: run, and production (blue again) answering well
    env = spec_env({"PRODUCTION_TRAFFIC_SHIFT": [PROD_CHECK]}, on_rollback="run")
    event = ecs_world.event("PRODUCTION_TRAFFIC_SHIFT", production=(100.0, 0.0))
    # WHEN the hook runs
    out = handle(event, lambda_context(), aws=ecs_world.aws, env=env)
    # THEN the checks run against the production listener
    assert out["hookStatus"] == SUCCEEDED and _details(out)["verdict"] == "PASSED"
    assert len(ecs_world.prod.requests) == 2


def test_ecs_hook_policies_rollback_seen_in_service_deployment(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any]
) -> None:
    # GIVEN a service deployment that ECS is rolling back, while the event's weights do not show it
    assert ecs_world.world.service_deployment_arn
    twin.update_service_deployment(ecs_world.world.service_deployment_arn, status="ROLLBACK_IN_PROGRESS")
    ecs_world.test.set(None, Reply(500))
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [CHECK]})
    # WHEN the hook runs
    out = handle(ecs_world.event(), lambda_context(), aws=ecs_world.aws, env=env)
    # THEN it is not checked (on_rollback: pass)
    assert out["hookStatus"] == SUCCEEDED and _details(out)["verdict"] == "SKIPPED"
    assert ecs_world.test.requests == []


def _first_deployment(ecs_world: Any) -> str:
    """A service deployment with a target revision and no source: the service's first."""
    w = ecs_world.world
    return str(twin.start_service_deployment(w.service_arn, target_revision=w.green_revision_arn, source_revisions=[]))


def test_ecs_hook_policies_first_deployment_passes(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any]
) -> None:
    # GIVEN the first deployment of a service (no source revision), green failing, empty weight maps
    arn = _first_deployment(ecs_world)
    ecs_world.test.set(None, Reply(500))
    env = spec_env({"POST_SCALE_UP": [CHECK]})
    event = ecs_world.event("POST_SCALE_UP", test=None, production=None, resource_arn=arn)
    # WHEN the hook runs with the default on_first_deployment (pass)
    out = handle(event, lambda_context(), aws=ecs_world.aws, env=env)
    # THEN SUCCEEDED without probing: there is nothing to compare with and no traffic to protect
    assert out["hookStatus"] == SUCCEEDED
    assert _details(out)["verdict"] == "SKIPPED" and "first deployment" in _details(out)["reason"]
    assert ecs_world.test.requests == []
    assert ecs_world.calls == {"ecs.DescribeServiceDeployments": 1}


def test_ecs_hook_policies_first_deployment_checked_when_asked(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any]
) -> None:
    # GIVEN the same with on_first_deployment: run
    arn = _first_deployment(ecs_world)
    ecs_world.test.set(None, Reply(500))
    env = spec_env({"POST_SCALE_UP": [CHECK]}, on_first_deployment="run")
    event = ecs_world.event("POST_SCALE_UP", test=None, production=None, resource_arn=arn)
    # WHEN the hook runs
    out = handle(event, lambda_context(), aws=ecs_world.aws, env=env)
    # THEN the checks run (through the discovered test listener) and the failure counts
    assert out["hookStatus"] == FAILED and _details(out)["verdict"] == "FAILED"
    assert len(ecs_world.test.requests) == 1


def _hook_running(ecs_world: Any, expires_in: float, action: str, target_arn: str | None) -> None:
    import datetime

    assert ecs_world.world.service_deployment_arn
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=expires_in)
    detail = {"hookId": "hook-1", "targetType": "AWS_LAMBDA", "status": "IN_PROGRESS"}
    detail |= {"expiresAt": expires, "timeoutAction": action}
    if target_arn:
        detail["targetArn"] = target_arn
    twin.update_service_deployment(ecs_world.world.service_deployment_arn, lifecycle_hook_details=[detail])


def test_ecs_hook_policies_hook_timeout_caps_max_duration(
    ecs_world: Any,
    spec_env: Callable[..., dict[str, str]],
    lambda_context: Callable[..., Any],
    caplog: Any,
) -> None:
    # GIVEN this hook's own timeout 8s away (DescribeServiceDeployments -> lifecycleHookDetails), action
    # CONTINUE, and a validation whose max_duration (1h) would outlast it; so little left keeps a quarter of it
    context = lambda_context()
    _hook_running(ecs_world, 8, "CONTINUE", context.invoked_function_arn + ":live")
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [{**CHECK, "count": 1000}]})
    # WHEN the hook runs
    out = handle(ecs_world.event(), context, aws=ecs_world.aws, env=env)
    # THEN the validation ends before the hook's timeout, fails closed (INCONCLUSIVE), and the log warns that
    # a timeout would have let the deployment go on
    assert out["hookStatus"] == FAILED and _details(out)["verdict"] == "INCONCLUSIVE"
    assert "max_duration" in _details(out)["reason"]
    assert "timeoutAction is CONTINUE" in caplog.text and "capped" in caplog.text
    capped = float(caplog.text.split("capped to ")[1].split("s")[0])
    assert 5 <= capped <= 6, caplog.text


def test_ecs_hook_policies_expired_hook_timeout_fails_even_when_inconclusive_may_pass(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any]
) -> None:
    # GIVEN this hook's own timeout already past, and a spec that lets INCONCLUSIVE pass
    context = lambda_context()
    _hook_running(ecs_world, -1, "ROLLBACK", context.invoked_function_arn + ":live")
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [CHECK]}, on_inconclusive="pass")
    # WHEN the hook runs
    out = handle(ecs_world.event(), context, aws=ecs_world.aws, env=env)
    # THEN nothing is measured and, with no evidence at all, it answers FAILED (ERROR), never SUCCEEDED
    assert out["hookStatus"] == FAILED and _details(out)["verdict"] == "ERROR"
    assert "nothing was measured" in _details(out)["reason"]
    assert ecs_world.test.requests == []


def test_ecs_hook_policies_far_hook_timeout_changes_nothing(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any], caplog: Any
) -> None:
    # GIVEN the only running Lambda hook times out in a day (no targetArn to match: the only one running)
    _hook_running(ecs_world, 86_400, "ROLLBACK", None)
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [CHECK]})
    # WHEN the hook runs
    out = handle(ecs_world.event(), lambda_context(), aws=ecs_world.aws, env=env)
    # THEN it validates as usual
    assert out["hookStatus"] == SUCCEEDED and _details(out)["verdict"] == "PASSED"
    assert "capped" not in caplog.text and "CONTINUE" not in caplog.text


def test_ecs_hook_policies_spec_load_held_by_ssm_answers_in_time(
    ecs_world: Any, lambda_context: Callable[..., Any]
) -> None:
    # GIVEN the spec kept in SSM, whose GetParameter the service holds for 30 s (botocore would wait 60 s a
    # read, with retries), and a function with 5 s left and a 1 s reserve
    import time

    import yaml

    doc = {"version": 1, "hooks": {"POST_TEST_TRAFFIC_SHIFT": [CHECK]}}
    ecs_world.session.client("ssm").put_parameter(Name="/greenlight/ecs", Type="String", Value=yaml.safe_dump(doc))
    env = {"GREENLIGHT_SPEC": "ssm:/greenlight/ecs", "GREENLIGHT_REPORT_RESERVE": "1"}
    twin.delay("ssm:GetParameter", 30.0)
    context = lambda_context(5_000)
    # WHEN the hook runs
    started = time.monotonic()
    out = handle(ecs_world.event(), context, aws=ecs_world.aws, env=env)
    took = time.monotonic() - started
    # THEN it answers FAILED (fail closed) before the function's time is up, saying what did not answer
    validate_response(out)
    assert out["hookStatus"] == FAILED
    assert "loading the spec did not answer" in out["reason"]
    assert context.get_remaining_time_in_millis() > 0 and took < 5.0
    print(f"[time-to-report] ECS, ssm:GetParameter held 30s: Lambda 5s, answered after {took:.2f}s")
