"""Tells people and other systems about a verdict: an EventBridge event, an SNS message, a chat webhook post.

Each payload is built from the validation's report (greenlight.reporting.report), which is already masked; the
webhook's URL is a secret itself (it lets anyone post), so it is read from Secrets Manager, remembered for
masking (greenlight.probe.redact) and never put in a log line, a report or a payload. Every sender raises on
failure; greenlight.reporting.publish bounds them in time and logs what failed, so none of this can change a
verdict or delay the answer to the deployment controller.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from greenlight.probe import redact

SOURCE = "greenlight"
DETAIL_TYPE = "greenlight verdict"
DEFAULT_BUS = "default"
MAX_FAILING = 20  # an EventBridge entry holds at most 256 KB; a verdict never needs more checks than this
MAX_SUBJECT = 100  # SNS: ASCII, at most 100 characters, no line breaks
USER_AGENT = "greenlight-notify"

log = logging.getLogger("greenlight.reporting")


class NotifyError(Exception):
    """A notification could not be sent; the message says which and why, without the webhook's URL."""


def detail(report: Mapping[str, Any], *, report_location: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The event's detail: the deployment, the hook, the verdict, the failing checks and their assertions."""
    failing = [
        {
            "check": f["check"],
            "kind": f["kind"],
            "status": f["status"],
            "dry_run": f["dry_run"],
            "reason": f["reason"],
            "assertions": list(f["assertions"])[:3],
        }
        for f in list(report.get("failing") or ())[:MAX_FAILING]
    ]
    return {
        "schema_version": report.get("schema_version"),
        "controller": report.get("controller"),
        "deployment": report.get("deployment"),
        "hook": report.get("hook"),
        "verdict": report.get("verdict"),
        "succeeded": report.get("succeeded"),
        "reason": report.get("reason"),
        "dry_run": report.get("dry_run"),
        "duration_ms": report.get("duration_ms"),
        "failing": failing,
        "report": dict(report_location) if report_location else None,
    }


def summary(report: Mapping[str, Any], *, report_location: Mapping[str, str] | None = None) -> str:
    """A few lines for people: the verdict, the deployment, each failing check's reason."""
    dep = report.get("deployment") or {}
    where = dep.get("id") or "a deployment"
    head = f"greenlight {report.get('verdict')}: {report.get('hook')} of {where}"
    green = (dep.get("versions") or {}).get("green")
    lines = [head + (f" (green {green})" if green else ""), str(report.get("reason", ""))]
    for f in list(report.get("failing") or ())[:5]:
        first = (f.get("assertions") or [f.get("reason")])[0]
        lines.append(f"- {f.get('status')} {f.get('check')}: {first}")
    if report_location:
        lines.append(f"report: s3://{report_location['bucket']}/{report_location['key']}")
    return "\n".join(lines)


def put_event(client: Any, event_detail: Mapping[str, Any], *, bus: str = DEFAULT_BUS) -> str:
    """Puts the verdict event on `bus`; its EventId. NotifyError when EventBridge refused the entry."""
    answer = client.put_events(
        Entries=[
            {
                "Source": SOURCE,
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(event_detail, default=str),
                "EventBusName": bus,
            }
        ]
    )
    entry = (answer.get("Entries") or [{}])[0]
    if answer.get("FailedEntryCount") or "EventId" not in entry:
        raise NotifyError(
            f"EventBridge refused the verdict event: {entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
        )
    return str(entry["EventId"])


def publish_sns(client: Any, topic_arn: str, report: Mapping[str, Any], text: str) -> str:
    """Publishes the summary (and the event's detail as JSON) to the topic; the MessageId."""
    subject = " ".join(f"greenlight {report.get('verdict')}: {report.get('hook')}".split())
    subject = subject.encode("ascii", "replace").decode()[:MAX_SUBJECT]
    answer = client.publish(TopicArn=topic_arn, Subject=subject, Message=text)
    return str(answer["MessageId"])


def chat_payload(text: str) -> dict[str, Any]:
    """A body both Slack incoming webhooks and Microsoft Teams incoming webhooks accept: a top-level `text`."""
    return {"text": text}


def webhook_url(client: Any, secret_id: str) -> str:
    """The webhook URL kept in Secrets Manager: the secret string itself, or its JSON's `url` (masked from now on)."""
    redact.install_log_redaction()
    value = client.get_secret_value(SecretId=secret_id).get("SecretString") or ""
    url = value.strip()
    if url.startswith("{"):
        try:
            url = str(json.loads(url).get("url") or "").strip()
        except (ValueError, AttributeError) as exc:
            raise NotifyError(f"secret {secret_id}: not a URL nor JSON with a `url` field") from exc
    # urllib3 logs the request line (the path alone) at DEBUG; in a Slack or Teams URL the path is the secret.
    from urllib.parse import urlsplit

    path = urlsplit(url).path
    for shown in (value, url, path if len(path) > 1 else ""):
        redact.remember(shown)
    if not url.startswith("https://") and not url.startswith("http://"):
        raise NotifyError(f"secret {secret_id}: the webhook URL must start with https://")
    return url


def post_webhook(url: str, payload: Mapping[str, Any], *, timeout: float) -> int:
    """POSTs the payload as JSON; the status code. Redirects are not followed (a secret URL is not sent on)."""
    import requests

    try:
        response = requests.post(
            url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
            timeout=(min(timeout, 3.0), timeout),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        # The exception's text names the URL: only its type and a masked text may be shown.
        raise NotifyError(f"webhook post failed: {type(exc).__name__}: {redact.text(str(exc), [url])}") from None
    if not 200 <= response.status_code < 300:
        raise NotifyError(f"webhook answered {response.status_code}")
    return response.status_code
