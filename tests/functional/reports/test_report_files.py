"""The report of a real run against real HTTP servers: JSON valid against docs/report.schema.json, JUnit that a JUnit
parser reads, HTML that escapes what servers said, and no secret anywhere."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import junitparser
import pytest

from greenlight.reporting import report as reports
from greenlight_cli import junit, report_html
from support.report_runs import HOOK, HOSTILE, TOKEN, failing_routes, run_against

SCHEMA = json.loads((Path(__file__).parents[3] / "docs" / "report.schema.json").read_text())


@pytest.fixture
def failing_run(serve: Any) -> Any:
    return run_against(serve(routes=failing_routes()))


def test_report_of_a_failing_run_validates_against_the_schema(failing_run: Any) -> None:
    # GIVEN a run whose health check failed at its third measurement
    # WHEN its report is built
    report = reports.from_result(failing_run, source="cli", controller="CODE_DEPLOY", deployment={"id": "d-ABCDEFGHI"})
    # THEN it is valid, names the failing check first, and keeps every measurement with its time and latency
    jsonschema.validate(report, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert report["verdict"] == "FAILED"
    assert [f["check"] for f in report["failing"]] == ["health"]
    assert any("503" in a for a in report["failing"][0]["assertions"])
    health = next(c for c in report["checks"] if c["name"] == "health")
    assert [m["status"] for m in health["measurements"]] == ["PASS", "PASS", "FAIL"]
    times = [m["t"] for m in health["measurements"]]
    assert times == sorted(times) and times[0] > time.time() - 60
    assert all(m["latency_ms"] > 0 for m in health["measurements"])
    assert report["deployment"]["id"] == "d-ABCDEFGHI"


def test_report_masks_query_tokens_and_known_secrets(failing_run: Any) -> None:
    # GIVEN a run whose URLs carry a token, and a secret value the caller knows of
    # WHEN the report, its HTML and its JUnit are written
    report = reports.from_result(failing_run, source="cli", secrets=["ok-secret-value"])
    texts = [reports.dumps(report), report_html.render(report), junit.render(report)]
    # THEN the token appears in none of them
    for text in texts:
        assert TOKEN not in text
    assert "token=***" in report["target"]["test_url"]


def test_report_loads_refuses_another_schema_version() -> None:
    with pytest.raises(reports.ReportFileError, match="schema_version 2"):
        reports.loads(json.dumps({"schema_version": 2}), where="r.json")
    with pytest.raises(reports.ReportFileError, match="r.json: not JSON"):
        reports.loads("{", where="r.json")


def test_report_keeps_at_most_max_measurements_per_check() -> None:
    # GIVEN a run of one check with more measurements than a report keeps
    many = [{"status": "PASS", "reason": "ok", "duration_ms": 1.0, "at": 1000.0 + i} for i in range(700)]
    run = {
        "hook": HOOK,
        "verdict": "PASSED",
        "succeeded": True,
        "reason": "ok",
        "checks": [
            {
                "name": "c",
                "kind": "http",
                "status": "PASS",
                "reason": "ok",
                "counts": {"PASS": 700},
                "measurements": many,
            }
        ],
    }
    # WHEN its report is built
    report = reports.build(run, source="twin")
    # THEN the newest MAX_MEASUREMENTS are kept and the rest counted
    check = report["checks"][0]
    assert len(check["measurements"]) == reports.MAX_MEASUREMENTS
    assert check["measurements_dropped"] == 700 - reports.MAX_MEASUREMENTS
    assert check["measurements"][-1]["t"] == 1699.0
    jsonschema.validate(report, SCHEMA)


def test_html_escapes_what_the_server_and_the_spec_said() -> None:
    # GIVEN a report whose check name, reasons and details carry markup
    run = {
        "hook": HOOK,
        "verdict": "FAILED",
        "succeeded": False,
        "reason": HOSTILE,
        "checks": [
            {
                "name": HOSTILE,
                "kind": "http",
                "status": "FAIL",
                "reason": HOSTILE,
                "counts": {"FAIL": 1},
                "measurements": [
                    {"status": "FAIL", "reason": HOSTILE, "duration_ms": 3, "at": 1.0, "details": {"b": HOSTILE}}
                ],
            }
        ],
    }
    page = report_html.render(reports.build(run, source="cli"))
    # THEN no markup of theirs survives, and the page asks for nothing outside itself
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_junit_parses_with_a_junit_parser(failing_run: Any, tmp_path: Path) -> None:
    # GIVEN the JUnit of a failing run
    report = reports.from_result(failing_run, source="cli")
    path = tmp_path / "junit.xml"
    path.write_text(junit.render(report), encoding="utf-8")
    # WHEN junitparser reads it
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = list(xml) if isinstance(xml, junitparser.JUnitXml) else [xml]
    cases = {case.name: case for suite in suites for case in suite}
    # THEN the failing check is a failure with its reason, the passing one passed
    assert set(cases) == {"home (http)", "health (http)"}
    assert cases["home (http)"].is_passed
    failure = cases["health (http)"].result[0]
    assert isinstance(failure, junitparser.Failure)
    assert "503" in (failure.message or "")
    assert suites[0].tests == 2 and suites[0].failures == 1
    ET.parse(path)  # well-formed for any other reader too


def test_report_masks_remembered_secrets_in_every_format() -> None:
    from greenlight.probe import redact

    # GIVEN a secret the process read (a spec's secret header), echoed back by a server into reasons and details
    secret = "Zx81-secret-header-value"  # nosec B105  # made up
    redact.remember(secret)
    try:
        run = {
            "hook": HOOK,
            "verdict": "FAILED",
            "succeeded": False,
            "reason": f"echo: Bearer {secret}",
            "checks": [
                {
                    "name": "echo",
                    "kind": "http",
                    "status": "FAIL",
                    "reason": f"body was {secret!r}",
                    "counts": {"FAIL": 1},
                    "measurements": [
                        {
                            "status": "FAIL",
                            "reason": f"got {secret}",
                            "duration_ms": 2,
                            "at": 1.0,
                            "details": {"authorization": f"Bearer {secret}", "body": f"x={secret}"},
                        }
                    ],
                }
            ],
        }
        # WHEN the report is built and rendered
        report = reports.build(run, source="lambda")
        texts = [reports.dumps(report), report_html.render(report), junit.render(report)]
    finally:
        redact.forget_all()
    # THEN the value is in none of them
    for text in texts:
        assert secret not in text
    assert report["checks"][0]["measurements"][0]["details"]["authorization"] == "***"
