"""The EMF records a verdict publishes through Powertools Metrics: one per check, one per verdict, and the hook's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from greenlight.engine.model import CheckResult, Measurement, RunResult, Status, Verdict
from greenlight.reporting import metrics as run_metrics

HOOK = "AfterAllowTestTraffic"


def a_run() -> RunResult:
    health = CheckResult(
        "health",
        "http",
        Status.FAIL,
        "1 failed",
        (Measurement(Status.PASS, "200", 12.5), Measurement(Status.FAIL, "503", 40.0)),
    )
    home = CheckResult("home", "http", Status.PASS, "ok", (Measurement(Status.PASS, "200", 7.0),))
    return RunResult(HOOK, Verdict.FAILED, False, "health failed", (health, home), 1234.0)


def emf_records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{") and '"_aws"' in line]


def values(record: dict[str, Any], name: str) -> list[float]:
    value = record[name]
    return value if isinstance(value, list) else [value]


def dims(record: dict[str, Any]) -> dict[str, str]:
    names = record["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
    return {n: record[n] for n in names}


def test_record_run_publishes_a_record_per_check_and_per_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the handler's metric sink, and a run with one failing and one passing check
    sink = Metrics(namespace="greenlight-test", service="greenlight")
    # WHEN the verdict is recorded and the handler's set flushed
    run_metrics.record_run(sink, a_run(), controller="ECS")
    sink.flush_metrics()
    records = emf_records(capsys.readouterr().out)
    # THEN each check has its record, dimensioned by service, hook, check and controller, with every latency
    by_check = {r["check"]: r for r in records if "check" in r}
    assert set(by_check) == {"health", "home"}
    assert dims(by_check["health"]) == {"service": "greenlight", "hook": HOOK, "check": "health", "controller": "ECS"}
    assert values(by_check["health"], "MeasurementLatency") == [12.5, 40.0]
    assert values(by_check["health"], "CheckFailed") == [1.0] and values(by_check["health"], "MeasurementsFailed") == [
        1
    ]
    assert values(by_check["home"], "CheckPassed") == [1.0] and values(by_check["home"], "MeasurementLatency") == [7.0]
    assert "CheckFailed" not in by_check["home"]
    # AND the verdict has its record, and the handler's own set still says the hook failed
    verdict = next(r for r in records if "verdict" in r)
    assert dims(verdict) == {"service": "greenlight", "hook": HOOK, "controller": "ECS", "verdict": "FAILED"}
    assert values(verdict, "VerdictDuration") == [1234.0] and values(verdict, "Verdicts") == [1]
    hook = next(r for r in records if "HookFailed" in r)
    assert hook["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "greenlight-test"


def test_record_run_keeps_the_latest_values_within_emf_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a check with more measurements than one EMF metric may hold
    many = tuple(Measurement(Status.PASS, "ok", float(i)) for i in range(250))
    result = RunResult(HOOK, Verdict.PASSED, True, "ok", (CheckResult("c", "http", Status.PASS, "ok", many),), 5.0)
    # WHEN it is recorded
    run_metrics.record_run(Metrics(namespace="greenlight-test", service="greenlight"), result, controller="CODE_DEPLOY")
    record = next(r for r in emf_records(capsys.readouterr().out) if r.get("check") == "c")
    # THEN the latest MAX_VALUES latencies are published
    assert values(record, "MeasurementLatency") == [float(i) for i in range(150, 250)]


def test_record_run_without_a_sink_records_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    run_metrics.record_run(None, a_run())
    assert emf_records(capsys.readouterr().out) == []
