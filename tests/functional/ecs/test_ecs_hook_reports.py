"""The ECS hook publishes its validation's report before answering: S3 key in hookDetails and in the verdict log
record, the verdict event on the default bus; and a publishing failure changes nothing in the answer."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from greenlight.handlers.ecs import handle
from greenlight.reporting.ecs import FAILED, validate_response
from support.servers import Reply, SilentServer

CHECK = {"name": "home", "http": {"path": "/", "expect": {"status": 200}}, "count": 2, "interval": 0.05}


def events_queue(session: Any) -> tuple[Any, str]:
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="verdicts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    eb = session.client("events")
    eb.put_rule(Name="verdicts", EventPattern=json.dumps({"source": ["greenlight"]}))
    eb.put_targets(Rule="verdicts", Targets=[{"Id": "q", "Arn": arn}])
    return sqs, url


def test_ecs_hook_publishes_the_report_and_names_it_in_hook_details(
    ecs_world: Any,
    spec_env: Callable[..., dict[str, str]],
    lambda_context: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="greenlight.handler")
    # GIVEN green answering 503, a report bucket and the default bus configured
    ecs_world.test.set(None, Reply(503, body="starting"))
    ecs_world.session.client("s3").create_bucket(Bucket="reports")
    sqs, queue = events_queue(ecs_world.session)
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [CHECK]})
    env |= {"GREENLIGHT_REPORT_BUCKET": "reports", "GREENLIGHT_EVENT_BUS": "default"}
    # WHEN the hook runs
    out = handle(ecs_world.event(), lambda_context(), aws=ecs_world.aws, env=env)
    # THEN it answers FAILED, naming the report's object in hookDetails
    validate_response(out)
    assert out["hookStatus"] == FAILED
    uri = out["hookDetails"]["greenlight_report"]
    assert uri.startswith("s3://reports/greenlight/ECS/")
    key = uri.removeprefix("s3://reports/")
    report = json.loads(ecs_world.session.client("s3").get_object(Bucket="reports", Key=key)["Body"].read())
    assert report["controller"] == "ECS" and report["source"] == "lambda" and report["verdict"] == "FAILED"
    assert report["deployment"]["stage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert report["failing"][0]["check"] == "home"
    # AND the verdict log record carries the key, and the event reached the default bus
    verdict = next(r for r in caplog.records if getattr(r, "greenlight_event", None) == "verdict")
    assert verdict.report_key == key  # type: ignore[attr-defined]
    body = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"][0]["Body"]
    assert json.loads(body)["detail"]["report"] == {"bucket": "reports", "key": key}


class SilentS3:
    """The world's AWS clients, but S3 is a server that accepts connections and never answers."""

    def __init__(self, aws: Any, session: Any, url: str) -> None:
        self.aws, self.s3 = aws, session.client("s3", endpoint_url=url)

    def client(self, service: str) -> Any:
        return self.s3 if service == "s3" else self.aws.client(service)


def test_ecs_hook_answer_is_unchanged_when_s3_hangs(
    ecs_world: Any, spec_env: Callable[..., dict[str, str]], lambda_context: Callable[..., Any]
) -> None:
    # GIVEN an S3 that never answers, and a failing check
    ecs_world.test.set(None, Reply(503, body="starting"))
    env = spec_env({"POST_TEST_TRAFFIC_SHIFT": [CHECK]}) | {"GREENLIGHT_REPORT_BUCKET": "reports"}
    with SilentServer() as silent:
        aws = SilentS3(ecs_world.aws, ecs_world.session, silent.url)
        # WHEN the hook runs
        started = time.monotonic()
        out = handle(ecs_world.event(), lambda_context(), aws=aws, env=env)
        print(f"answered in {time.monotonic() - started:.2f}s with S3 silent (publishing bound: 3 s)")
    # THEN the answer is the verdict's, valid, without a report key (none was written in time)
    validate_response(out)
    assert out["hookStatus"] == FAILED and "greenlight_report" not in out["hookDetails"]
    assert "status 503" in out["hookDetails"]["greenlight"]["reason"]
