"""Publishing a report: S3 (with SSE-KMS), an EventBridge event on the default bus, SNS, and a chat webhook, against
the twin's moto server and a real HTTP server on 127.0.0.1; bounded in time, never raising, never showing the
webhook's URL."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from greenlight.aws import AwsClients
from greenlight.reporting import notify
from greenlight.reporting import report as reports
from greenlight.reporting.publish import PublishSettings, publish, report_key
from support.report_runs import HOOK, failing_routes, run_against
from support.servers import Reply, SilentServer

WEBHOOK_PATH = "/services/T000/B000/hook-secret-Zq81xV"  # the part of a Slack URL that lets anyone post


@pytest.fixture
def report(serve: Any) -> dict[str, Any]:
    result = run_against(serve(routes=failing_routes()))
    return reports.from_result(
        result, source="lambda", controller="CODE_DEPLOY", deployment={"id": "d-ABCDEFGHI", "application": "app"}
    )


def queue_for(session: Any, name: str) -> tuple[Any, str, str]:
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def received(sqs: Any, url: str) -> list[str]:
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [m["Body"] for m in answer.get("Messages", [])]


def test_publish_writes_s3_and_notifies_events_sns_and_the_webhook(
    aws_env: Any, serve: Any, report: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = aws_env.session()
    # GIVEN a bucket, a KMS key, a rule on the default bus and a topic (each feeding a queue), a webhook secret
    session.client("s3").create_bucket(Bucket="reports")
    key_id = session.client("kms").create_key()["KeyMetadata"]["Arn"]
    sqs, events_queue, events_arn = queue_for(session, "events")
    _, sns_queue, sns_arn = queue_for(session, "sns")
    eb = session.client("events")
    eb.put_rule(Name="verdicts", EventPattern=json.dumps({"source": ["greenlight"]}))
    eb.put_targets(Rule="verdicts", Targets=[{"Id": "q", "Arn": events_arn}])
    topic = session.client("sns").create_topic(Name="verdicts")["TopicArn"]
    session.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sns_arn)
    chat = serve(routes={WEBHOOK_PATH: Reply(200, body="ok")})
    webhook = chat.url + WEBHOOK_PATH
    secret = session.client("secretsmanager").create_secret(Name="chat", SecretString=json.dumps({"url": webhook}))
    settings = PublishSettings(
        bucket="reports",
        prefix="greenlight/",
        kms_key=key_id,
        event_bus="default",
        topic_arn=topic,
        webhook_secret=secret["ARN"],
    )
    # WHEN the report is published
    done = publish(report, aws=AwsClients(session=session), settings=settings, budget=10)
    # THEN every step succeeded, and the report is in S3 under its key, encrypted with the key
    assert done.steps == {"s3": "ok", "events": "ok", "sns": "ok", "webhook": "ok"}, done.steps
    assert done.key == report_key("greenlight/", report)
    assert done.key.startswith("greenlight/CODE_DEPLOY/d-ABCDEFGHI/AfterAllowTestTraffic/")
    stored = session.client("s3").get_object(Bucket="reports", Key=done.key)
    assert stored["ServerSideEncryption"] == "aws:kms" and stored["SSEKMSKeyId"] == key_id
    assert json.loads(stored["Body"].read()) == report
    # AND the default bus delivered the verdict event, naming the deployment, the failing check and the report
    (body,) = received(sqs, events_queue)
    event = json.loads(body)
    assert event["source"] == "greenlight" and event["detail-type"] == "greenlight verdict"
    assert event["detail"]["deployment"]["id"] == "d-ABCDEFGHI"
    assert event["detail"]["verdict"] == "FAILED" and event["detail"]["hook"] == HOOK
    assert [f["check"] for f in event["detail"]["failing"]] == ["health"]
    assert "503" in event["detail"]["failing"][0]["assertions"][0]
    assert event["detail"]["report"] == {"bucket": "reports", "key": done.key}
    # AND SNS delivered the summary, and the webhook got a Slack/Teams payload with a `text`
    (sns_body,) = received(sqs, sns_queue)
    assert "greenlight FAILED" in json.loads(sns_body)["Message"]
    (post,) = chat.requests
    payload = json.loads(post.body)
    assert set(payload) == {"text"} and "health" in payload["text"] and done.key in payload["text"]
    # AND the webhook's secret URL is nowhere: not in the report, the event, the SNS message or any log record
    shown = json.dumps(report) + body + sns_body + json.dumps(payload)
    shown += "\n".join(r.getMessage() + json.dumps(getattr(r, "publish", {})) for r in caplog.records)
    assert "hook-secret-Zq81xV" not in shown


def test_publish_failures_are_logged_and_bounded(
    aws_env: Any, report: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    session = aws_env.session()
    # GIVEN a missing bucket, a missing topic, and a webhook that accepts connections and never answers
    with SilentServer() as silent:
        url = silent.url_for("/services/T1/B1/silent-secret-Kp3")
        secret = session.client("secretsmanager").create_secret(Name="silent", SecretString=url)
        settings = PublishSettings(
            bucket="no-such-bucket",
            topic_arn="arn:aws:sns:us-east-1:123456789012:none",
            webhook_secret=secret["ARN"],
        )
        # WHEN the report is published with 2 seconds to spare
        started = time.monotonic()
        done = publish(report, aws=AwsClients(session=session), settings=settings, budget=2.0)
        took = time.monotonic() - started
    # THEN nothing raised; each failure is named, the silent webhook ran out of time, and no key is claimed
    print(f"publish with failures took {took:.2f}s of a 2.0s budget: {done.steps}")
    assert done.key is None
    assert done.steps["s3"].startswith("failed: NoSuchBucket")
    assert done.steps["sns"].startswith("failed:")
    assert done.steps["webhook"] == "not done within 2.0s" or done.steps["webhook"].startswith("failed: NotifyError")
    warning = next(r for r in caplog.records if r.getMessage().startswith("report published in part"))
    assert "silent-secret-Kp3" not in warning.getMessage()


def test_publish_without_time_does_nothing(report: dict[str, Any]) -> None:
    done = publish(report, aws=None, settings=PublishSettings(bucket="b"), budget=0)
    assert done.key is None and done.steps == {"all": "skipped: no time left"}


def test_publish_settings_from_env() -> None:
    settings = PublishSettings.from_env({"GREENLIGHT_REPORT_BUCKET": "b", "GREENLIGHT_REPORT_PREFIX": "team/x"})
    assert settings.prefix == "team/x/" and settings.anything
    assert not PublishSettings.from_env({}).anything


def test_chat_payload_is_plain_text_for_slack_and_teams(report: dict[str, Any]) -> None:
    text = notify.summary(report, report_location={"bucket": "b", "key": "k.json"})
    assert notify.chat_payload(text) == {"text": text}
    assert text.splitlines()[0] == f"greenlight FAILED: {HOOK} of d-ABCDEFGHI"
    assert "s3://b/k.json" in text


def test_budget_is_tight_for_ecs_and_never_past_the_time_left() -> None:
    from greenlight.reporting.publish import budget_for

    assert budget_for("CODE_DEPLOY", 300) == 10.0
    assert budget_for("ECS", 300) == 3.0
    assert budget_for("ECS", 2.5) == 1.5
    assert budget_for("CODE_DEPLOY", 0.5) == 0.0
    assert budget_for("ECS", 300, {"GREENLIGHT_PUBLISH_TIMEOUT_ECS": "1.5"}) == 1.5


def test_publish_verdict_of_a_validation_that_did_not_complete(aws_env: Any) -> None:
    from greenlight.reporting.publish import publish_verdict

    # GIVEN a bucket configured, and a validation that ended in an exception (no run result)
    session = aws_env.session()
    session.client("s3").create_bucket(Bucket="reports")
    env = {"GREENLIGHT_REPORT_BUCKET": "reports"}
    # WHEN its verdict is published
    done = publish_verdict(
        None,
        controller="CODE_DEPLOY",
        hook=HOOK,
        reason="SpecError: bad",
        aws=AwsClients(session=session),
        time_left=60,
        env=env,
        deployment={"id": "d-ABCDEFGHI"},
    )
    # THEN an ERROR report with the reason is in the bucket
    assert done.steps == {"s3": "ok"}
    stored = json.loads(session.client("s3").get_object(Bucket="reports", Key=done.key)["Body"].read())
    assert stored["verdict"] == "ERROR" and stored["reason"] == "SpecError: bad" and stored["checks"] == []
    # AND with nothing configured, nothing is attempted
    assert publish_verdict(None, controller="ECS", hook=HOOK, reason="x", aws=None, time_left=60, env={}).steps == {}


def test_ecs_answer_carries_the_report_key_only_when_it_fits() -> None:
    from greenlight.reporting import ecs
    from greenlight.reporting.publish import Published, with_report_location

    answer = ecs.failure("health failed")
    written = Published(key="greenlight/ECS/x/POST_TEST_TRAFFIC_SHIFT/t-FAILED.json", bucket="reports")
    # GIVEN a written report WHEN the answer is completed THEN hookDetails name it, and the answer stays valid
    done = with_report_location(answer, written)
    assert done["hookDetails"]["greenlight_report"] == f"s3://reports/{written.key}"
    assert done["hookStatus"] == "FAILED" and done["hookDetails"]["greenlight"] == answer["hookDetails"]["greenlight"]
    ecs.validate_response(done)
    # AND without a written report, or when the key would not fit, the answer is unchanged
    assert with_report_location(answer, Published()) is answer
    huge = Published(key="k" * (ecs.MAX_DETAILS_BYTES + 10), bucket="reports")
    assert with_report_location(answer, huge) is answer
