"""Starting the durable worker: Invoke with a DurableExecutionName, through botocore, against the twin's moto.

The twin's moto answers a durable Invoke of a registered worker as the botocore lambda model shapes it
(`X-Amz-Durable-Execution-Arn`; 409 DurableExecutionAlreadyStartedException for the same name with another
payload); here the registered starter only records what it was asked to start.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from greenlight.aws import AwsClients
from greenlight.durable.job import CODE_DEPLOY, Job
from greenlight.durable.start import StartError, hand_over, start
from greenlight.engine.check import Check, CheckContext
from greenlight.engine.model import Measurement, passed
from greenlight.engine.policy import Policy
from greenlight_twin.aws import durable as twin_durable
from greenlight_twin.aws import session


class _Idle(Check):
    kind = "idle"

    def measure(self, ctx: CheckContext) -> Measurement:  # never called: only the schedule matters here
        return passed()


WORKER = "arn:aws:lambda:us-east-1:123456789012:function:greenlight-durable-worker:live"


@pytest.fixture
def starts(aws_env: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    calls: list[tuple[str, dict[str, Any]]] = []

    def starter(name: str, payload: bytes) -> str:
        calls.append((name, json.loads(payload)))
        return (
            f"arn:aws:lambda:us-east-1:123456789012:function:greenlight-durable-worker:live/durable-execution/{name}/1"
        )

    twin_durable.register_worker("greenlight-durable-worker", starter)
    yield calls
    twin_durable.unregister_worker("greenlight-durable-worker")


def _job(execution: str = "exec-1", started_at: float = 1_767_225_600.0) -> Job:
    ids = {"deploymentId": "d-ABCDEFGHI", "lifecycleEventHookExecutionId": execution}
    return Job(CODE_DEPLOY, "AfterAllowTestTraffic", started_at, started_at + 3600, ids)


def _lambda(aws_env: Any) -> Any:
    return AwsClients(session=aws_env.session()).client("lambda")


def test_durable_start_starts_one_execution_per_hook_execution(aws_env: Any, starts: list[Any]) -> None:
    client = _lambda(aws_env)
    # WHEN the same hook execution is handed over twice (a repeated invocation), then with another start time
    first = start(client, WORKER, _job())
    again = start(client, WORKER, _job())
    later = start(client, WORKER, _job(started_at=1_767_225_700.0))
    # THEN one execution was started, under the job's name; the repeats found it
    assert len(starts) == 1 and starts[0][0] == first.name == _job().name()
    assert first.arn and first.arn.endswith(f"/{first.name}/1") and not first.already
    assert again.arn == first.arn
    assert later.already and later.arn is None
    # ... and another hook execution gets another name
    other = start(client, WORKER, _job("exec-2"))
    assert other.name != first.name and len(starts) == 2


def test_durable_start_refuses_an_unqualified_function(aws_env: Any, starts: list[Any]) -> None:
    with pytest.raises(StartError, match="not a qualified function ARN"):
        start(_lambda(aws_env), WORKER.rsplit(":", 1)[0], _job())
    assert starts == []


def test_durable_start_fails_when_lambda_cannot_be_reached() -> None:
    # GIVEN a Lambda endpoint that refuses connections
    client = AwsClients(session=session("http://127.0.0.1:1"), retries={"mode": "standard", "max_attempts": 1})
    # WHEN the worker is started THEN the error names the action
    with pytest.raises(StartError, match="lambda:InvokeFunction"):
        start(client.client("lambda"), WORKER, _job())


def test_durable_hand_over_only_when_the_checks_outlast_the_invocation(aws_env: Any, starts: list[Any]) -> None:
    short = [_Idle("a", Policy(count=3, interval=1, timeout=1), {})]
    long = [_Idle("a", Policy(count=40, interval=60, timeout=5), {})]
    common = {
        "deployment_id": "d-ABCDEFGHI",
        "execution_id": "e",
        "started_at": 1.0,
        "aws": AwsClients(session=aws_env.session()),
    }
    env = {"GREENLIGHT_DURABLE_FUNCTION": WORKER}
    # a validation that fits, or no worker configured: the hook validates itself
    assert hand_over(short, "AfterAllowTestTraffic", seconds=280, env=env, **common) is None
    assert hand_over(long, "AfterAllowTestTraffic", seconds=280, env={}, **common) is None
    # 40 measurements a minute apart: handed over, to be reported within the hour
    handed = hand_over(long, "AfterAllowTestTraffic", seconds=280, env=env, **common)
    assert handed is not None and len(starts) == 1
    assert starts[0][1]["report_by"] == 3601.0 and starts[0][1]["hook"] == "AfterAllowTestTraffic"
