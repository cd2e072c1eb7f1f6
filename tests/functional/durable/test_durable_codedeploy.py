"""The durable worker for CodeDeploy hooks, run by the SDK's local test runner against real servers and the twin's moto.

`DurableFunctionTestRunner` (aws-durable-execution-sdk-python-testing) plays Lambda's durable execution
service in-process: it checkpoints each step's result, ends the invocation at each wait, and invokes the
handler again, which replays the checkpointed steps. Waits are skipped (the runner's default clock), so
the rounds follow each other at once; each round then waits for its next measurement itself. The probes
cross real HTTP servers on 127.0.0.1; the report goes to the twin's moto (PutLifecycleEventHookExecutionStatus,
StopDeployment).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner

from greenlight.aws import AwsClients
from greenlight.durable.job import CODE_DEPLOY, CODEDEPLOY_HOOK_LIMIT, Job
from greenlight.durable.worker import Worker, make_handler
from greenlight_twin.aws import hook_execution, open_hook_execution, reported_status, seed_bluegreen
from greenlight_twin.aws.codedeploy import stop_requested
from support.servers import HttpServer, Reply, first_n

HOOK = "AfterAllowTestTraffic"


def _spec(tmp_path: Path, url: str, hook: str, count: int, interval: float, **policy: Any) -> str:
    doc = {
        "version": 1,
        "target": {"test_url": url, "prod_url": url},
        "settings": {"report_reserve": 2},
        "hooks": {
            hook: [{"name": "health", "http": {"path": "/health"}, "count": count, "interval": interval, **policy}]
        },
    }
    path = tmp_path / f"spec-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _job(deployment_id: str, execution_id: str, hook: str = HOOK, *, started_at: float | None = None) -> Job:
    import time

    now = time.time() if started_at is None else started_at
    return Job(
        controller=CODE_DEPLOY,
        hook=hook,
        started_at=now,
        report_by=now + CODEDEPLOY_HOOK_LIMIT,
        ids={"deploymentId": deployment_id, "lifecycleEventHookExecutionId": execution_id},
    )


def _run(worker: Worker, job: Job, **runner: Any) -> Any:
    with DurableFunctionTestRunner(handler=make_handler(worker), **runner) as run:
        return run.run(input=json.dumps(job.to_payload()), execution_timeout=20, execution_name=job.name())


def _rounds(result: Any) -> list[str]:
    return [op.name for op in result.operations if op.name and op.name.startswith("round-")]


def test_durable_codedeploy_good_green_succeeds_over_rounds(
    seeded: tuple[Any, str], seeded_aws: AwsClients, serve: Callable[..., HttpServer], tmp_path: Path
) -> None:
    # GIVEN a healthy green and a hook whose check takes 6 measurements, each round taking one
    server = serve(Reply(json={"status": "ok"}))
    execution_id = open_hook_execution(seeded[1], HOOK)
    env = {"GREENLIGHT_SPEC": _spec(tmp_path, server.url, HOOK, 6, 0.6), "GREENLIGHT_ROUND_HOLD": "0"}
    # WHEN the durable worker runs the job
    result = _run(Worker(aws=seeded_aws, env=env), _job(seeded[1], execution_id))
    # THEN it validated over several rounds and reported Succeeded, once
    assert result.status is InvocationStatus.SUCCEEDED, result.error
    answer = json.loads(result.result)
    assert answer["verdict"] == "PASSED" and answer["status"] == "Succeeded" and answer["recorded"] is True
    assert len(_rounds(result)) == 6
    assert len(server.requests) == 6
    assert reported_status(execution_id) == "Succeeded"
    assert len(hook_execution(execution_id).reports) == 1


def test_durable_codedeploy_green_degrading_half_way_fails(
    seeded: tuple[Any, str], seeded_aws: AwsClients, serve: Callable[..., HttpServer], tmp_path: Path
) -> None:
    # GIVEN a green that answers 200 three times, then 500
    server = serve(first_n(3, Reply(json={"status": "ok"}), Reply(status=500)))
    execution_id = open_hook_execution(seeded[1], HOOK)
    env = {"GREENLIGHT_SPEC": _spec(tmp_path, server.url, HOOK, 6, 0.6), "GREENLIGHT_ROUND_HOLD": "0"}
    # WHEN the durable worker runs the job
    result = _run(Worker(aws=seeded_aws, env=env), _job(seeded[1], execution_id))
    # THEN the round that saw the 500 ended the run, and CodeDeploy was told Failed
    answer = json.loads(result.result)
    assert answer["verdict"] == "FAILED" and answer["status"] == "Failed"
    assert len(_rounds(result)) == 4
    assert reported_status(execution_id) == "Failed"
    assert stop_requested(seeded[1]) is None  # not a bake hook: the failed report is enough


def test_durable_codedeploy_bake_breach_stops_with_rollback(
    moto_server: Any, seeded_aws: AwsClients, serve: Callable[..., HttpServer], tmp_path: Path
) -> None:
    # GIVEN production on green (AfterAllowTraffic) and a green that breaks during the bake window
    world = seed_bluegreen(moto_server.session(), name="bake")
    assert world.deployment_id is not None
    server = serve(first_n(2, Reply(json={"status": "ok"}), Reply(status=503)))
    execution_id = open_hook_execution(world.deployment_id, "AfterAllowTraffic")
    env = {
        "GREENLIGHT_SPEC": _spec(tmp_path, server.url, "AfterAllowTraffic", 5, 0.6),
        "GREENLIGHT_ROUND_HOLD": "0",
    }
    # WHEN the durable worker watches it
    result = _run(Worker(aws=seeded_aws, env=env), _job(world.deployment_id, execution_id, "AfterAllowTraffic"))
    # THEN the deployment was stopped with rollback, and the hook reported Failed
    answer = json.loads(result.result)
    assert answer["verdict"] == "FAILED" and answer["rollback"] == "stopped with rollback"
    assert stop_requested(world.deployment_id) is True
    assert answer["status"] == "Failed"


def test_durable_codedeploy_ends_by_the_hour_limit(
    seeded: tuple[Any, str], seeded_aws: AwsClients, serve: Callable[..., HttpServer], tmp_path: Path
) -> None:
    # GIVEN a hook that began 3600 - 4 s ago (its report is due in 4 s, 2 s of them kept in reserve) and a
    # check that would take a minute
    import time

    server = serve(Reply(json={"status": "ok"}))
    execution_id = open_hook_execution(seeded[1], HOOK)
    env = {"GREENLIGHT_SPEC": _spec(tmp_path, server.url, HOOK, 60, 1), "GREENLIGHT_ROUND_HOLD": "0"}
    job = _job(seeded[1], execution_id, started_at=time.time() - CODEDEPLOY_HOOK_LIMIT + 4)
    # WHEN the durable worker runs it
    result = _run(Worker(aws=seeded_aws, env=env), job)
    # THEN the run is cut short before the limit, fails closed (INCONCLUSIVE) and is reported before it
    answer = json.loads(result.result)
    assert answer["verdict"] == "INCONCLUSIVE" and answer["status"] == "Failed"
    assert time.time() < job.report_by
    assert reported_status(execution_id) == "Failed"


class _KilledOnce(Worker):
    """A worker whose invocation hangs inside round `at` the first time, until the runner gives it up."""

    def __init__(self, *args: Any, at: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.at = at
        self.release = threading.Event()
        self.attempts: dict[int, int] = {}

    def round(self, job: Job, progress: Any, lambda_context: Any) -> dict[str, Any]:
        number = int(progress.get("round", 0)) + 1 if progress else 1
        self.attempts[number] = self.attempts.get(number, 0) + 1
        if number == self.at and self.attempts[number] == 1:
            self.release.wait(30)  # killed here: Lambda's timeout ends the invocation, the runner invokes again
        return super().round(job, progress, lambda_context)


def test_durable_codedeploy_worker_killed_between_rounds_resumes_and_reports_once(
    seeded: tuple[Any, str], seeded_aws: AwsClients, serve: Callable[..., HttpServer], tmp_path: Path
) -> None:
    # GIVEN a worker whose invocation is killed in its third round
    server = serve(Reply(json={"status": "ok"}))
    execution_id = open_hook_execution(seeded[1], HOOK)
    env = {"GREENLIGHT_SPEC": _spec(tmp_path, server.url, HOOK, 5, 0.6), "GREENLIGHT_ROUND_HOLD": "0"}
    worker = _KilledOnce(aws=seeded_aws, env=env, at=3)
    # WHEN the runner times the invocation out and invokes the function again
    try:
        result = _run(worker, _job(seeded[1], execution_id), invocation_timeout=2)
    finally:
        worker.release.set()
    # THEN the replay took rounds 1-2 from their checkpoints, ran round 3 again, and reported once
    answer = json.loads(result.result)
    assert answer["verdict"] == "PASSED" and answer["status"] == "Succeeded"
    assert worker.attempts[1] == worker.attempts[2] == 1 and worker.attempts[3] == 2
    assert len(server.requests) == 5
    assert len(hook_execution(execution_id).reports) == 1


def test_durable_codedeploy_publishes_the_report_after_reporting(
    seeded: tuple[Any, str], seeded_aws: AwsClients, serve: Callable[..., HttpServer], tmp_path: Path
) -> None:
    # GIVEN a report bucket configured, and a green whose /health fails
    seeded[0].client("s3").create_bucket(Bucket="durable-reports")
    server = serve(Reply(503))
    execution_id = open_hook_execution(seeded[1], HOOK)
    env = {
        "GREENLIGHT_SPEC": _spec(tmp_path, server.url, HOOK, 4, 0.2, failure_limit=0),
        "GREENLIGHT_ROUND_HOLD": "0",
        "GREENLIGHT_REPORT_BUCKET": "durable-reports",
    }
    # WHEN the durable worker runs the job
    result = _run(Worker(aws=seeded_aws, env=env), _job(seeded[1], execution_id))
    # THEN CodeDeploy was told Failed, and the validation's report is in the bucket, naming the failing check
    answer = json.loads(result.result)
    assert answer["status"] == "Failed" and answer["recorded"] is True
    assert reported_status(execution_id) == "Failed"
    key = answer["report_key"]
    assert key, answer
    body = seeded[0].client("s3").get_object(Bucket="durable-reports", Key=key)["Body"].read()
    report = json.loads(body)
    assert report["verdict"] == "FAILED"
    assert [c["check"] for c in report["failing"]] == ["health"], report["failing"]
