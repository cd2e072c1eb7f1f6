"""The twin reads checks and verdicts from the hooks' structured log events, as Powertools writes them.

The records come from the hook side itself (greenlight.reporting.log) through Powertools' JSON formatter,
the one the handlers' Logger uses; their messages are then rewritten, to show that nothing is read from
the text.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from greenlight.engine.model import CheckResult, Measurement, RunResult, Status, Verdict
from greenlight.reporting.log import log_result
from greenlight_twin.hooklog import parse_log_line, read_report, record_event
from greenlight_twin.progress import CHECK, LOG, VERDICT


@pytest.fixture
def hook_log() -> Iterator[io.StringIO]:
    """What the hook side logs, as Powertools JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LambdaPowertoolsFormatter())
    logger = logging.getLogger("greenlight.handler")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def failed_run() -> RunResult:
    health = CheckResult(
        name="health",
        kind="http",
        status=Status.FAIL,
        reason="status 503 not in [200]",
        measurements=(Measurement(Status.FAIL, "status 503 not in [200]"),),
    )
    identity = CheckResult(name="answered-by-green", kind="identity", status=Status.PASS, reason="2.0.0 answered")
    return RunResult(
        hook="AfterAllowTestTraffic",
        verdict=Verdict.FAILED,
        succeeded=False,
        reason="check health failed: status 503 not in [200]",
        checks=(health, identity),
        duration_ms=12.5,
    )


def test_hook_log_checks_and_verdict_read_from_fields_not_text(hook_log: io.StringIO) -> None:
    # GIVEN a failed run logged by the hook side, with every message rewritten
    log_result(failed_run())
    records = [parse_log_line(line) for line in hook_log.getvalue().splitlines()]
    assert all(records), hook_log.getvalue()
    for record in records:
        assert record is not None
        record["message"] = "something else entirely"

    # WHEN the twin reads them
    report = read_report(r for r in records if r is not None)
    events = [record_event(r, 1.0, "fn") for r in records if r is not None]

    # THEN it has both checks, the verdict and its reason, and one event each
    assert [(c.name, c.kind, c.status) for c in report.checks] == [
        ("health", "http", "FAIL"),
        ("answered-by-green", "identity", "PASS"),
    ]
    assert report.checks[0].counts["FAIL"] == 1
    assert (report.verdict, report.reason) == ("FAILED", "check health failed: status 503 not in [200]")
    assert [e.kind for e in events if e is not None] == [CHECK, CHECK, VERDICT]
    verdict = next(e for e in events if e is not None and e.kind == VERDICT)
    assert verdict.data["hook"] == "AfterAllowTestTraffic" and verdict.data["succeeded"] is False


def test_hook_log_message_that_looks_like_a_check_is_not_one() -> None:
    # GIVEN records whose text says "check"/"verdict" but that carry no greenlight_event
    records = [
        {"level": "INFO", "message": "check health: FAIL", "check": {"name": "health", "status": "FAIL"}},
        {"level": "WARNING", "message": "verdict FAILED: made up"},
    ]

    # WHEN the twin reads them
    report = read_report(records)
    events = [record_event(r, 0.0, "fn") for r in records]

    # THEN neither is a check nor a verdict; the warning is shown as a log line
    assert report.checks == () and report.verdict is None
    assert events[0] is None
    assert events[1] is not None and events[1].kind == LOG


def test_hook_log_error_lines_are_the_errors() -> None:
    # GIVEN an error record among others, and a non-JSON line
    lines = [
        json.dumps({"level": "ERROR", "message": "PutLifecycleEventHookExecutionStatus failed: AccessDenied"}),
        "START RequestId: 1 Version: $LATEST",
        json.dumps({"level": "INFO", "message": "event"}),
    ]

    # WHEN the twin reads them
    report = read_report(r for r in map(parse_log_line, lines) if r is not None)

    # THEN the error's message is the hook's error
    assert report.errors == ("PutLifecycleEventHookExecutionStatus failed: AccessDenied",)
