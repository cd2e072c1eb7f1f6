"""Publishes a validation's report after the verdict: to S3, and as notifications (EventBridge, SNS, a chat webhook).

Configured by the function's environment (the template's parameters set it):

- GREENLIGHT_REPORT_BUCKET, GREENLIGHT_REPORT_PREFIX (default `greenlight/`), GREENLIGHT_REPORT_KMS_KEY_ARN:
  the JSON report goes to `s3://BUCKET/PREFIX<controller>/<deployment>/<hook>/<time>-<verdict>.json`,
  encrypted with the KMS key when one is given (SSE-KMS), else with the bucket's default encryption;
- GREENLIGHT_EVENT_BUS: the bus of the verdict event (the template sets `default`; unset: no event);
- GREENLIGHT_SNS_TOPIC_ARN: a topic for the verdict's summary;
- GREENLIGHT_WEBHOOK_SECRET_ARN: a Secrets Manager secret holding a Slack- or Teams-compatible webhook URL.

Nothing here may change a verdict or delay the answer to the controller: `publish` runs every step in a daemon
thread under one wall-clock budget, logs whatever failed or ran out of time (masked), and returns what it
managed. S3 comes first, so the events can name the report's key.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from greenlight.engine.model import RunResult

from greenlight.probe import redact
from greenlight.reporting import notify
from greenlight.reporting import report as reports

log = logging.getLogger("greenlight.reporting")

DEFAULT_PREFIX = "greenlight/"
# Seconds publishing may take: after CodeDeploy has its status (the function only has to return), and before
# the ECS answer (which waits for it, so the bound is tight). Never more than the invocation has left, minus
# MARGIN for returning.
CODEDEPLOY_BUDGET = 10.0
ECS_BUDGET = 3.0
MARGIN = 1.0
# What the hook's role needs for publishing (tests/template checks the template grants them).
IAM_ACTIONS = (
    "s3:PutObject",
    "events:PutEvents",
    "sns:Publish",
    "secretsmanager:GetSecretValue",
    "kms:GenerateDataKey",
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


class PublishSettingsError(ValueError):
    """The publishing settings are malformed; names the variable."""


@dataclass(frozen=True)
class PublishSettings:
    bucket: str | None = None
    prefix: str = DEFAULT_PREFIX
    kms_key: str | None = None
    event_bus: str | None = None
    topic_arn: str | None = None
    webhook_secret: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PublishSettings:
        env = os.environ if env is None else env
        prefix = env.get("GREENLIGHT_REPORT_PREFIX", DEFAULT_PREFIX)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        if prefix.startswith("/"):
            raise PublishSettingsError(f"GREENLIGHT_REPORT_PREFIX={prefix!r}: an S3 key prefix does not start with /")
        return cls(
            bucket=env.get("GREENLIGHT_REPORT_BUCKET") or None,
            prefix=prefix,
            kms_key=env.get("GREENLIGHT_REPORT_KMS_KEY_ARN") or None,
            event_bus=env.get("GREENLIGHT_EVENT_BUS") or None,
            topic_arn=env.get("GREENLIGHT_SNS_TOPIC_ARN") or None,
            webhook_secret=env.get("GREENLIGHT_WEBHOOK_SECRET_ARN") or None,
        )

    @property
    def anything(self) -> bool:
        return bool(self.bucket or self.event_bus or self.topic_arn or self.webhook_secret)


def report_key(prefix: str, report: Mapping[str, Any]) -> str:
    """Where a report goes in the bucket: one folder per deployment and hook, one object per validation."""
    dep = report.get("deployment") or {}
    deployment = str(dep.get("id") or "no-deployment").rsplit("/", 1)[-1]
    parts = [
        str(report.get("controller") or "none"),
        deployment,
        str(report.get("hook") or "hook"),
        f"{report.get('created_at', '')}-{report.get('verdict', '')}".replace(":", ""),
    ]
    return prefix + "/".join(_UNSAFE.sub("_", p)[:200] for p in parts) + ".json"


def put_report(client: Any, settings: PublishSettings, report: Mapping[str, Any]) -> str:
    """Writes the JSON report to S3; its key."""
    assert settings.bucket
    key = report_key(settings.prefix, report)
    extra: dict[str, Any] = {}
    if settings.kms_key:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": settings.kms_key}
    client.put_object(
        Bucket=settings.bucket,
        Key=key,
        Body=json.dumps(report, indent=1, ensure_ascii=False).encode(),
        ContentType="application/json",
        **extra,
    )
    return key


@dataclass
class Published:
    """What publishing managed: the report's key (when written), and each step's outcome ("ok" or why not)."""

    key: str | None = None
    bucket: str | None = None
    steps: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def location(self) -> dict[str, str] | None:
        return {"bucket": self.bucket, "key": self.key} if self.bucket and self.key else None


def _bounded(name: str, work: Callable[[], Any], steps: dict[str, str]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except Exception as exc:
            steps[name] = redact.mask_text(f"failed: {type(exc).__name__}: {exc}")
        else:
            steps[name] = "ok"

    thread = threading.Thread(target=run, name=f"greenlight-publish-{name}", daemon=True)
    thread.start()
    return thread


def publish(
    report: Mapping[str, Any],
    *,
    aws: Any,
    settings: PublishSettings,
    budget: float,
    clock: Callable[[], float] = time.monotonic,
) -> Published:
    """Publish `report` within `budget` seconds of wall clock; never raises."""
    started = clock()
    until = started + max(0.0, budget)
    out = Published(bucket=settings.bucket)
    steps: dict[str, str] = {}
    try:
        if budget <= 0:
            out.steps = {"all": "skipped: no time left"}
            return out
        if settings.bucket:
            key_box: list[str] = []
            thread = _bounded("s3", lambda: key_box.append(put_report(aws.client("s3"), settings, report)), steps)
            # Half the budget at most: a slow S3 must leave the notifications their time.
            thread.join(max(0.0, started + budget / 2 - clock()))
            if key_box:
                out.key = key_box[0]
        location = out.location
        threads = []
        if settings.event_bus:
            bus = settings.event_bus
            event = notify.detail(report, report_location=location)
            threads.append(_bounded("events", lambda: notify.put_event(aws.client("events"), event, bus=bus), steps))
        text = notify.summary(report, report_location=location)
        if settings.topic_arn:
            topic = settings.topic_arn
            threads.append(_bounded("sns", lambda: notify.publish_sns(aws.client("sns"), topic, report, text), steps))
        if settings.webhook_secret:
            secret = settings.webhook_secret

            def webhook() -> None:
                url = notify.webhook_url(aws.client("secretsmanager"), secret)
                notify.post_webhook(url, notify.chat_payload(text), timeout=max(0.1, until - clock()))

            threads.append(_bounded("webhook", webhook, steps))
        for thread in threads:
            thread.join(max(0.0, until - clock()))
    except Exception as exc:  # publishing must never cost the answer
        steps["publish"] = redact.mask_text(f"failed: {type(exc).__name__}: {exc}")
    for name, wanted in (
        ("s3", settings.bucket),
        ("events", settings.event_bus),
        ("sns", settings.topic_arn),
        ("webhook", settings.webhook_secret),
    ):
        if wanted and name not in steps:
            steps[name] = f"not done within {budget:.1f}s"
    out.steps = dict(steps)
    out.seconds = clock() - started
    bad = {k: v for k, v in out.steps.items() if v != "ok"}
    extra = {"report_key": out.key, "report_bucket": out.bucket, "publish": out.steps, "publish_seconds": out.seconds}
    if bad:
        log.warning("report published in part: %s", "; ".join(f"{k} {v}" for k, v in bad.items()), extra=extra)
    elif out.steps:
        log.info("report published%s", f" to s3://{out.bucket}/{out.key}" if out.key else "", extra=extra)
    return out


def budget_for(controller: str, time_left: float, env: Mapping[str, str] | None = None) -> float:
    """Seconds publishing may take for `controller` when the invocation has `time_left` seconds."""
    env = os.environ if env is None else env
    name, default = (
        ("GREENLIGHT_PUBLISH_TIMEOUT_ECS", ECS_BUDGET)
        if controller == "ECS"
        else ("GREENLIGHT_PUBLISH_TIMEOUT", CODEDEPLOY_BUDGET)
    )
    try:
        cap = float(env.get(name) or default)
    except ValueError:
        log.warning("%s=%r is not a number of seconds; using %g", name, env.get(name), default)
        cap = default
    return max(0.0, min(cap, time_left - MARGIN))


def publish_verdict(
    result: RunResult | Mapping[str, Any] | None,
    *,
    controller: str,
    hook: str | None,
    reason: str,
    aws: Any,
    time_left: float,
    env: Mapping[str, str] | None = None,
    deployment: Mapping[str, Any] | None = None,
) -> Published:
    """The hook's report of `result` (a RunResult, or a run as RunResult.to_dict() gives it; when the validation
    did not complete, an ERROR with `reason`), published as the environment says, within
    budget_for(controller, time_left). Never raises."""
    try:
        settings = PublishSettings.from_env(env)
        if not settings.anything:
            return Published()
        if result is None:
            run: dict[str, Any] = {"hook": hook or "?", "verdict": "ERROR", "succeeded": False, "reason": reason}
        elif isinstance(result, Mapping):
            run = dict(result)
        else:
            run = result.to_dict()
        report = reports.build(run, source="lambda", controller=controller, deployment=deployment)
        return publish(report, aws=aws, settings=settings, budget=budget_for(controller, time_left, env))
    except Exception as exc:  # publishing must never cost the answer
        log.warning("report not published: %s", redact.mask_text(f"{type(exc).__name__}: {exc}"))
        return Published(steps={"publish": "failed"})


REPORT_DETAIL = "greenlight_report"


def with_report_location(answer: dict[str, Any], published: Published) -> dict[str, Any]:
    """The ECS answer with `hookDetails.greenlight_report` (the report's s3:// URI) when one was written and it
    fits; otherwise the answer as it was: the key must never turn a valid answer into an invalid one."""
    from greenlight.reporting.ecs import ResponseError, validate_response

    location = published.location
    details = answer.get("hookDetails")
    if location is None or not isinstance(details, Mapping):
        return answer
    candidate = {**answer, "hookDetails": {**details, REPORT_DETAIL: f"s3://{location['bucket']}/{location['key']}"}}
    try:
        validate_response(candidate)
    except ResponseError as exc:
        log.warning("the report's key is left out of hookDetails: %s", exc)
        return answer
    return candidate
