"""template.yaml's reports, notifications and dashboard: parameters reach the functions, IAM grants each publishing
action only when configured and only on the named resource, and the optional dashboard is valid JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfn_conditions import evaluate_template

DEMO = {"AppImage": "123456789012.dkr.ecr.eu-south-1.amazonaws.com/greenlight-sample:1.0.0"}
KEY = "arn:aws:kms:eu-south-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000000"
TOPIC = "arn:aws:sns:eu-south-1:123456789012:deployments"
SECRET = "arn:aws:secretsmanager:eu-south-1:123456789012:secret:chat-webhook-AbCdEf"
EVERYTHING = {
    "ReportBucketName": "team-reports",
    "ReportPrefix": "deployments/greenlight/",
    "ReportKmsKeyArn": KEY,
    "NotificationTopicArn": TOPIC,
    "WebhookSecretArn": SECRET,
    "CreateDashboard": "true",
}
PUBLISH_SIDS = {
    "PutVerdictEventsOnDefaultBus",
    "WriteReportsUnderPrefix",
    "EncryptReportsViaS3",
    "PublishVerdictsToTopic",
    "ReadWebhookSecret",
}


def policy(ev: Any) -> dict[str, dict[str, Any]]:
    if "ReportPublishPolicy" not in ev.resources:  # created only when something is published
        return {}
    statements = ev.resources["ReportPublishPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    return {s["Sid"]: s for s in statements if s.get("Sid") in PUBLISH_SIDS}


def test_template_publishing_defaults_grant_only_the_verdict_event(template: dict[str, Any]) -> None:
    # GIVEN the defaults WHEN evaluated
    ev = evaluate_template(template, **DEMO)
    grants = policy(ev)
    # THEN only events:PutEvents, on the default bus, for greenlight's source; no dashboard
    assert set(grants) == {"PutVerdictEventsOnDefaultBus"}
    event = grants["PutVerdictEventsOnDefaultBus"]
    assert event["Action"] == "events:PutEvents"
    assert ev.value(event["Resource"]) == "arn:aws:events:eu-south-1:123456789012:event-bus/default"
    assert event["Condition"] == {"StringEquals": {"events:source": "greenlight"}}
    assert "GreenlightDashboard" not in ev.resources
    env = ev.value(template["Globals"]["Function"]["Environment"]["Variables"])
    assert env["GREENLIGHT_EVENT_BUS"] == "default" and env["GREENLIGHT_REPORT_BUCKET"] == ""


def test_template_publishing_everything_scopes_each_grant(template: dict[str, Any]) -> None:
    # GIVEN a bucket, prefix, key, topic, webhook secret and the dashboard, without events
    ev = evaluate_template(template, **DEMO, **EVERYTHING, PublishVerdictEvents="false")
    grants = policy(ev)
    # THEN each grant is on its resource only
    assert set(grants) == PUBLISH_SIDS - {"PutVerdictEventsOnDefaultBus"}
    assert grants["WriteReportsUnderPrefix"]["Action"] == "s3:PutObject"
    assert ev.value(grants["WriteReportsUnderPrefix"]["Resource"]) == (
        "arn:aws:s3:::team-reports/deployments/greenlight/*"
    )
    kms = grants["EncryptReportsViaS3"]
    assert kms["Action"] == "kms:GenerateDataKey" and ev.value(kms["Resource"]) == KEY
    assert ev.value(kms["Condition"]["StringEquals"]["kms:ViaService"]) == "s3.eu-south-1.amazonaws.com"
    assert ev.value(grants["PublishVerdictsToTopic"]["Resource"]) == TOPIC
    assert grants["ReadWebhookSecret"]["Action"] == "secretsmanager:GetSecretValue"
    assert ev.value(grants["ReadWebhookSecret"]["Resource"]) == SECRET
    # AND the functions are told where to publish
    env = ev.value(template["Globals"]["Function"]["Environment"]["Variables"])
    assert env["GREENLIGHT_REPORT_BUCKET"] == "team-reports"
    assert env["GREENLIGHT_REPORT_PREFIX"] == "deployments/greenlight/"
    assert env["GREENLIGHT_REPORT_KMS_KEY_ARN"] == KEY
    assert env["GREENLIGHT_EVENT_BUS"] == ""
    assert env["GREENLIGHT_SNS_TOPIC_ARN"] == TOPIC and env["GREENLIGHT_WEBHOOK_SECRET_ARN"] == SECRET


def test_template_dashboard_body_is_json_over_the_metrics_published(template: dict[str, Any]) -> None:
    # GIVEN CreateDashboard WHEN the dashboard's body is evaluated
    ev = evaluate_template(template, **DEMO, CreateDashboard="true")
    body = json.loads(ev.value(ev.resources["GreenlightDashboard"]["Properties"]["DashboardBody"]))
    # THEN its widgets search the metrics greenlight.reporting.metrics publishes, in the functions' namespace
    expressions = [w["properties"]["metrics"][0][0]["expression"] for w in body["widgets"]]
    for metric in ("Verdicts", "VerdictDuration", "CheckFailed", "MeasurementLatency"):
        assert any(f'MetricName="{metric}"' in e for e in expressions), metric
    namespace = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    assert all(e.startswith(f"SEARCH('{{{namespace},") for e in expressions)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("ReportBucketName", "Not_A_Bucket"),
        ("ReportPrefix", "/starts-with-slash/"),
        ("ReportKmsKeyArn", "alias/reports"),
        ("NotificationTopicArn", "deployments"),
        ("WebhookSecretArn", "https://hooks.slack.com/services/T/B/X"),
    ],
)
def test_template_publishing_parameters_refuse_malformed_values(
    template: dict[str, Any], parameter: str, value: str
) -> None:
    import re

    pattern = template["Parameters"][parameter]["AllowedPattern"]
    assert re.fullmatch(pattern, EVERYTHING[parameter])
    assert not re.fullmatch(pattern, value)
