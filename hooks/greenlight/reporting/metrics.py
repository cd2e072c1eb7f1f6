"""The metrics a validation publishes (Powertools Metrics, as CloudWatch embedded metrics): one call per moment.

Every function takes the sink the handler was given (None in tests and on the command line: nothing is
recorded) and never raises: a metric must never cost the answer to the deployment controller.

A verdict publishes, besides the handler's own metric set (dimensions service and hook): one EMF record per
check (dimensions service, hook, check, controller: CheckPassed/CheckFailed, MeasurementLatency for each
measurement, MeasurementsFailed/MeasurementsErrored) and one for the verdict (dimensions service, hook,
controller, verdict: Verdicts, VerdictDuration). Those go through Powertools' EphemeralMetrics, printed at
once, because one metric set holds one set of dimensions.
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
# EMF allows 100 values per metric in one record; a check's latest measurements are the ones kept.
MAX_VALUES = 100
NO_CONTROLLER = "none"


def record_run(sink: Any, result: RunResult, *, controller: str | None = None) -> None:
    """A verdict: checks passed and failed, how long it took, and whether the hook succeeded; then a record per
    check and one for the verdict (see the module's docstring)."""
    if sink is None:
        return
    _record_verdict(sink, result, controller)
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


def _record_verdict(sink: Any, result: RunResult, controller: str | None) -> None:
    try:
        from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

        ctrl = controller or str(result.context.get("controller") or NO_CONTROLLER)
        namespace, service = getattr(sink, "namespace", None), getattr(sink, "service", None)
        for check in result.checks:
            one = EphemeralMetrics(namespace=namespace, service=service)
            one.add_dimension(name="hook", value=result.hook)
            one.add_dimension(name="check", value=check.name[:250] or "?")
            one.add_dimension(name="controller", value=ctrl)
            ok = check.status is Status.PASS
            one.add_metric(name="CheckPassed" if ok else "CheckFailed", unit=MetricUnit.Count, value=1)
            bad = {Status.FAIL: "MeasurementsFailed", Status.ERROR: "MeasurementsErrored"}
            for status, name in bad.items():
                count = sum(1 for m in check.measurements if m.status is status)
                if count:
                    one.add_metric(name=name, unit=MetricUnit.Count, value=count)
            for m in check.measurements[-MAX_VALUES:]:
                one.add_metric(name="MeasurementLatency", unit=MetricUnit.Milliseconds, value=m.duration_ms)
            if one.metric_set:  # Powertools flushes by itself when a metric reaches 100 values
                one.flush_metrics()
        verdict = EphemeralMetrics(namespace=namespace, service=service)
        verdict.add_dimension(name="hook", value=result.hook)
        verdict.add_dimension(name="controller", value=ctrl)
        verdict.add_dimension(name="verdict", value=result.verdict.value)
        verdict.add_metric(name="Verdicts", unit=MetricUnit.Count, value=1)
        verdict.add_metric(name="VerdictDuration", unit=MetricUnit.Milliseconds, value=result.duration_ms)
        verdict.flush_metrics()
    except Exception:
        log.exception("could not record the per-check metrics of the %s verdict", result.hook)


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
