"""ECS PAUSE hooks driven by the durable worker: the EventBridge event, the validation, ContinueServiceDeployment.

The service deployment lives in the twin's moto (seed_bluegreen with controller ECS), paused at a PAUSE
hook with `pause_at_hook` (lifecycleHookDetails as DescribeServiceDeployments shows them). The event is
the EventBridge event ECS emits (detail-type "ECS Hook State Change", event name HOOK_AWAITING_ACTION,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html); the Developer Guide
shows no more of its shape, so the service deployment's ARN is given in `resources` as EventBridge events
of AWS services name their resources, and everything else is read from DescribeServiceDeployments.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner

from greenlight.aws import AwsClients
from greenlight.durable import pause
from greenlight.durable.job import ECS_PAUSE
from greenlight.durable.worker import Worker, make_handler
from greenlight.handlers.inputs import InvalidEventError
from greenlight_twin.aws import hook_action, pause_at_hook, seed_bluegreen, session
from support.aws import drop_parameter_providers
from support.servers import HttpServer, Reply, first_n

STAGE = "POST_TEST_TRAFFIC_SHIFT"


@pytest.fixture(scope="module")
def world(moto_server: Any) -> Iterator[Any]:
    moto_server.reset()
    seeded = seed_bluegreen(moto_server.session(), name="paused", controller="ECS")
    assert seeded.service_deployment_arn is not None
    yield seeded
    moto_server.reset()


@pytest.fixture
def aws(world: Any, moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsClients]:
    for name, value in moto_server.client_env().items():
        monkeypatch.setenv(name, value)
    drop_parameter_providers()
    yield AwsClients(session=moto_server.session())
    drop_parameter_providers()


def _event(arn: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": pause.DETAIL_TYPE,
        "source": "aws.ecs",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [arn],
        "detail": {"eventName": pause.AWAITING},
    }


def _env(tmp_path: Path, url: str, count: int) -> dict[str, str]:
    doc = {
        "version": 1,
        "target": {"test_url": url, "prod_url": url},
        "settings": {"report_reserve": 2},
        "hooks": {STAGE: [{"name": "health", "http": {"path": "/health"}, "count": count, "interval": 0.6}]},
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return {"GREENLIGHT_SPEC": str(path), "GREENLIGHT_ROUND_HOLD": "0", pause.STAGE_VARIABLE: STAGE}


def _validate(aws: AwsClients, env: dict[str, str], world: Any) -> tuple[Any, str]:
    hook_id = pause_at_hook(world.service_deployment_arn, timeout_seconds=600)
    job = pause.job_for(aws.client("ecs"), _event(world.service_deployment_arn), stage=STAGE)
    assert job.ids["hookId"] == hook_id
    with DurableFunctionTestRunner(handler=make_handler(Worker(aws=aws, env=env))) as runner:
        result = runner.run(input=json.dumps(job.to_payload()), execution_timeout=30, execution_name=job.name())
    return result, hook_id


def test_pause_job_reads_the_hook_from_describe_service_deployments(world: Any, aws: AwsClients) -> None:
    # GIVEN a deployment paused at a hook that expires in ten minutes
    hook_id = pause_at_hook(world.service_deployment_arn, timeout_seconds=600)
    # WHEN the event of the pause arrives
    job = pause.job_for(aws.client("ecs"), _event(world.service_deployment_arn), stage=STAGE)
    # THEN the job names the hook and must report before it expires
    assert job.controller == ECS_PAUSE and job.hook == STAGE and job.ids["hookId"] == hook_id
    assert job.ids["serviceArn"] == world.service_arn
    assert job.ids["targetServiceRevisionArn"] == world.green_revision_arn
    assert 590 < job.report_by - time.time() <= 600
    pause.continue_deployment(aws.client("ecs"), world.service_deployment_arn, hook_id, True)


def test_pause_good_green_continues(
    world: Any, aws: AwsClients, serve: Callable[..., HttpServer], tmp_path: Path
) -> None:
    # GIVEN a healthy green behind a paused deployment
    server = serve(Reply(json={"status": "ok"}))
    # WHEN the durable worker validates it over several rounds
    result, hook_id = _validate(aws, _env(tmp_path, server.url, 4), world)
    # THEN the deployment was told to CONTINUE, once
    answer = json.loads(result.result)
    assert answer["verdict"] == "PASSED" and answer["status"] == "CONTINUE" and answer["recorded"] is True
    assert hook_action(world.service_deployment_arn, hook_id) == "CONTINUE"
    assert len(server.requests) == 4


def test_pause_green_degrading_half_way_rolls_back(
    world: Any, aws: AwsClients, serve: Callable[..., HttpServer], tmp_path: Path
) -> None:
    # GIVEN a green that turns bad after two answers
    server = serve(first_n(2, Reply(json={"status": "ok"}), Reply(status=500)))
    # WHEN the durable worker validates it
    result, hook_id = _validate(aws, _env(tmp_path, server.url, 6), world)
    # THEN the deployment was told to ROLL BACK
    answer = json.loads(result.result)
    assert answer["verdict"] == "FAILED" and answer["status"] == "ROLLBACK"
    assert hook_action(world.service_deployment_arn, hook_id) == "ROLLBACK"


def test_pause_continue_twice_is_a_no_op(world: Any, aws: AwsClients) -> None:
    # GIVEN a hook already continued
    hook_id = pause_at_hook(world.service_deployment_arn, timeout_seconds=600)
    ecs = aws.client("ecs")
    assert pause.continue_deployment(ecs, world.service_deployment_arn, hook_id, True) == ("CONTINUE", True)
    # WHEN a replayed report step sends the verdict again
    again = pause.continue_deployment(ecs, world.service_deployment_arn, hook_id, False)
    # THEN nothing changes: the first action stands
    assert again == ("ROLLBACK", False)
    assert hook_action(world.service_deployment_arn, hook_id) == "CONTINUE"


def test_pause_rolls_back_when_the_worker_cannot_start(world: Any, aws: AwsClients, moto_server: Any) -> None:
    # GIVEN a paused deployment and a Lambda endpoint that refuses connections (127.0.0.1:1)
    hook_id = pause_at_hook(world.service_deployment_arn, timeout_seconds=600)

    class _Clients:
        def client(self, service: str) -> Any:
            if service == "lambda":
                return AwsClients(
                    session=session("http://127.0.0.1:1"), retries={"mode": "standard", "max_attempts": 1}
                ).client("lambda")
            return aws.client(service)

    env = {
        pause.STAGE_VARIABLE: STAGE,
        "GREENLIGHT_DURABLE_FUNCTION": "arn:aws:lambda:us-east-1:123456789012:function:w:live",
    }
    # WHEN the event arrives
    out = pause.handle(_event(world.service_deployment_arn), None, aws=_Clients(), env=env)
    # THEN the deployment is rolled back at once, with why
    assert out["started"] is False and out["action"] == "ROLLBACK" and out["recorded"] is True
    assert "cannot start durable execution" in out["reason"]
    assert hook_action(world.service_deployment_arn, hook_id) == "ROLLBACK"


def test_pause_event_without_a_service_deployment_is_refused() -> None:
    # GIVEN an event of the right type that names no service deployment
    event = {"detail-type": pause.DETAIL_TYPE, "detail": {"eventName": pause.AWAITING}, "resources": []}
    # WHEN it is parsed THEN the error says where it looked
    with pytest.raises(InvalidEventError, match="names no service deployment ARN"):
        pause.parse_event(event)


def test_pause_event_starts_the_worker_through_lambda_and_it_continues(
    world: Any, aws: AwsClients, moto_server: Any, serve: Callable[..., HttpServer], tmp_path: Path
) -> None:
    # GIVEN the twin's durable worker registered behind Lambda (the twin's moto routes the durable Invoke to it)
    from greenlight_twin.durable import DurableWorker

    server = serve(Reply(json={"status": "ok"}))
    env = _env(tmp_path, server.url, 3)
    worker = DurableWorker("greenlight-durable-worker", endpoint_url=moto_server.endpoint_url, env=env)
    hook_id = pause_at_hook(world.service_deployment_arn, timeout_seconds=600)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:greenlight-durable-worker:live"
    try:
        # WHEN the PAUSE hook's EventBridge event reaches the PauseHook function, twice (at-least-once delivery)
        out = pause.handle(
            _event(world.service_deployment_arn), None, aws=aws, env={**env, "GREENLIGHT_DURABLE_FUNCTION": arn}
        )
        again = pause.handle(
            _event(world.service_deployment_arn), None, aws=aws, env={**env, "GREENLIGHT_DURABLE_FUNCTION": arn}
        )
        # THEN one durable execution validated green over rounds and continued the deployment
        assert out["started"] is True and again["started"] is True and len(worker.executions) == 1
        result = worker.wait(worker.executions[0], timeout=60)
    finally:
        worker.close()
    answer = json.loads(result.result)
    assert answer["verdict"] == "PASSED" and answer["status"] == "CONTINUE"
    assert hook_action(world.service_deployment_arn, hook_id) == "CONTINUE"
    assert len(server.requests) == 3
