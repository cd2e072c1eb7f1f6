"""The outcome of a validation as structured log records: what operators and the twin read (metrics: `metrics`).

Every record about a check or a verdict carries `greenlight_event` ("check" or "verdict") and its data as fields,
so a reader (CloudWatch Logs Insights, the local twin) never parses message text:

- check: `check` (CheckResult.to_dict()), `hook`, and `round` for resumed ECS validations;
- verdict: `verdict`, `succeeded`, `reason`, `hook`, `context`, and `report_key` when the report was written to S3.
"""

from __future__ import annotations

import logging
from typing import Any

from greenlight.engine.model import CheckResult, RunResult

log = logging.getLogger("greenlight.handler")

CHECK_EVENT = "check"
VERDICT_EVENT = "verdict"


def log_check(check: CheckResult, hook: str, **extra: Any) -> None:
    """One check's result (or its pause, for a validation to be resumed) as a structured record."""
    state = "paused" if check.paused else check.status.value
    log.info(
        "check %s: %s",
        check.name,
        state,
        extra={"greenlight_event": CHECK_EVENT, "check": check.to_dict(), "hook": hook, **extra},
    )


def log_result(result: RunResult, *, report_key: str | None = None) -> None:
    """Per-check results and the verdict, as structured records; `report_key`: the report's S3 key, if written."""
    for check in result.checks:
        log_check(check, result.hook)
    log.info(
        "verdict %s: %s",
        result.verdict.value,
        result.reason,
        extra={
            "greenlight_event": VERDICT_EVENT,
            "verdict": result.verdict.value,
            "succeeded": result.succeeded,
            "reason": result.reason,
            "hook": result.hook,
            "context": result.context,
            **({"report_key": report_key} if report_key else {}),
        },
    )


def log_progress(result: RunResult, number: int) -> None:
    """Where each check stands when round `number` of a validation pauses (the next invocation resumes it)."""
    for check in result.checks:
        log_check(check, result.hook, round=number)
