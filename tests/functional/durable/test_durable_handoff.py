"""The CodeDeploy hook function hands checks that outlast it to the durable worker, or reports Failed at once.

The deployment is seeded in the twin's moto; the worker is "registered" in the twin's moto (a durable
Invoke of it is recorded), or not, in which case moto's Lambda answers ResourceNotFoundException.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from greenlight.aws import AwsClients
from greenlight.handlers import codedeploy
from greenlight_twin.aws import durable as twin_durable
from greenlight_twin.aws import hook_execution, open_hook_execution, reported_status
from support.lambda_context import FakeLambdaContext

HOOK = "AfterAllowTestTraffic"
WORKER = "arn:aws:lambda:us-east-1:123456789012:function:greenlight-durable-worker:live"


def _env(tmp_path: Path, count: int) -> dict[str, str]:
    check = {"name": "health", "http": {"path": "/health"}, "count": count, "interval": 60}
    doc = {"version": 1, "target": {"test_url": "http://127.0.0.1:9"}, "hooks": {HOOK: [check]}}
    path = tmp_path / f"spec-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return {"GREENLIGHT_HOOK": HOOK, "GREENLIGHT_SPEC": str(path), "GREENLIGHT_DURABLE_FUNCTION": WORKER}


def test_handoff_long_checks_start_the_worker_and_report_nothing(
    seeded: tuple[Any, str], seeded_aws: AwsClients, tmp_path: Path
) -> None:
    # GIVEN a 40-minute validation (40 measurements a minute apart) and a function with 2 minutes
    starts: list[tuple[str, dict[str, Any]]] = []
    twin_durable.register_worker(
        "greenlight-durable-worker", lambda name, payload: starts.append((name, json.loads(payload))) or "arn:x"
    )
    execution_id = open_hook_execution(seeded[1], HOOK)
    event = {"DeploymentId": seeded[1], "LifecycleEventHookExecutionId": execution_id}
    try:
        # WHEN the hook runs, twice (Lambda may deliver an asynchronous invocation again)
        out = codedeploy.handle(event, FakeLambdaContext(remaining_ms=120_000), aws=seeded_aws, env=_env(tmp_path, 40))
        again = codedeploy.handle(
            event, FakeLambdaContext(remaining_ms=120_000), aws=seeded_aws, env=_env(tmp_path, 40)
        )
    finally:
        twin_durable.unregister_worker("greenlight-durable-worker")
    # THEN one durable execution was started for the hook execution, and the hook reported nothing
    assert out["status"] == again["status"] == "HANDED_OVER" and out["recorded"] is False
    assert len(starts) == 1
    name, job = starts[0]
    assert job["ids"] == {"deploymentId": seeded[1], "lifecycleEventHookExecutionId": execution_id}
    assert job["report_by"] - job["started_at"] == 3600
    assert reported_status(execution_id) is None and hook_execution(execution_id).reports == ()


def test_handoff_worker_that_cannot_start_fails_the_hook_at_once(
    seeded: tuple[Any, str], seeded_aws: AwsClients, tmp_path: Path
) -> None:
    # GIVEN no durable worker behind the configured ARN (Lambda: ResourceNotFoundException)
    execution_id = open_hook_execution(seeded[1], HOOK)
    event = {"DeploymentId": seeded[1], "LifecycleEventHookExecutionId": execution_id}
    # WHEN the hook runs a validation that needs the worker
    out = codedeploy.handle(event, FakeLambdaContext(remaining_ms=120_000), aws=seeded_aws, env=_env(tmp_path, 40))
    # THEN it reports Failed at once, saying why
    assert out["status"] == "Failed" and out["recorded"] is True
    assert "cannot start durable execution" in out["reason"]
    assert reported_status(execution_id) == "Failed"


def test_handoff_checks_that_fit_run_in_the_hook(
    seeded: tuple[Any, str], seeded_aws: AwsClients, tmp_path: Path
) -> None:
    # GIVEN one measurement: it fits the invocation, so no worker is started even though one is configured
    execution_id = open_hook_execution(seeded[1], HOOK)
    event = {"DeploymentId": seeded[1], "LifecycleEventHookExecutionId": execution_id}
    out = codedeploy.handle(event, FakeLambdaContext(remaining_ms=120_000), aws=seeded_aws, env=_env(tmp_path, 1))
    # THEN the hook validated and reported itself (nothing listens on 127.0.0.1:9: Failed)
    assert out["status"] == "Failed" and out["verdict"] in ("ERROR", "FAILED")
    assert reported_status(execution_id) == "Failed"
