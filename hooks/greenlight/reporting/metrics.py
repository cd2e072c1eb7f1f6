"""The metrics a validation publishes (Powertools Metrics, as CloudWatch embedded metrics): one call per moment.

Every function takes the sink the handler was given (None in tests and on the command line: nothing is
recorded) and never raises: a metric must never cost the answer to the deployment controller.
"""

from __future__ import annotations

import logging
from typing import Any

from greenlight.engine.model import RunResult, Status

log = logging.getLogger("greenlight.reporting")

HOOK_SUCCEEDED = "HookSucceeded"
HOOK_FAILED = "HookFailed"
HOOK_SKIPPED = "HookSkipped"
HOOK_IN_PROGRESS = "HookInProgress"


def record_run(sink: Any, result: RunResult) -> None:
    """A verdict: checks passed and failed, how long it took, and whether the hook succeeded."""
    if sink is None:
        return
    try:
        from aws_lambda_powertools.metrics import MetricUnit

        passed = sum(1 for c in result.checks if c.status is Status.PASS)
        sink.add_dimension(name="hook", value=result.hook)
        sink.add_metric(name="ChecksPassed", unit=MetricUnit.Count, value=passed)
        sink.add_metric(name="ChecksFailed", unit=MetricUnit.Count, value=len(result.checks) - passed)
        sink.add_metric(name="ValidationDuration", unit=MetricUnit.Milliseconds, value=result.duration_ms)
        sink.add_metric(name=HOOK_SUCCEEDED if result.succeeded else HOOK_FAILED, unit=MetricUnit.Count, value=1)
    except Exception:
        log.exception("could not record the metrics of the %s verdict", result.hook)


def record(sink: Any, name: str, *, hook: str | None = None) -> None:
    """One occurrence of `name` (HookSkipped, HookInProgress, HookFailed), with the hook as dimension if known."""
    if sink is None:
        return
    try:
        from aws_lambda_powertools.metrics import MetricUnit

        if hook:
            sink.add_dimension(name="hook", value=hook)
        sink.add_metric(name=name, unit=MetricUnit.Count, value=1)
    except Exception:
        log.exception("could not record the %s metric", name)
