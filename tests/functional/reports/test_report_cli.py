"""`greenlight check --report-json/--report-html/--junit` and `greenlight report`, run as a user would run them, and
the twin's reports of a deployment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import junitparser
import yaml

from greenlight_cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from greenlight_twin.outcome import CheckOutcome, DeploymentOutcome, HookOutcome
from greenlight_twin.reports import write_reports
from support.report_runs import HOOK, TOKEN, failing_routes

SCHEMA = json.loads((Path(__file__).parents[3] / "docs" / "report.schema.json").read_text())


def write_spec(tmp_path: Path, url: str) -> Path:
    doc = {
        "version": 1,
        "target": {"test_url": url, "prod_url": url},
        "defaults": {"timeout": "2s", "interval": "50ms"},
        "hooks": {
            HOOK: [
                {"name": "home", "http": {"path": "/"}, "count": 2},
                {
                    "name": "health",
                    "http": {"path": f"/health?token={TOKEN}"},
                    "count": 4,
                    "interval": "150ms",  # fails at ~300 ms, after home's two measurements passed
                    "failure_limit": 0,
                },
            ]
        },
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_check_writes_the_json_html_and_junit_reports(serve: Any, tmp_path: Path, capsys: Any) -> None:
    # GIVEN a spec whose health check will fail
    server = serve(routes=failing_routes())
    spec = write_spec(tmp_path, server.url)
    out = tmp_path / "out"
    # WHEN greenlight check runs with every report option
    code = main(
        [
            "check",
            "--spec",
            str(spec),
            "--quiet",
            "--report-json",
            str(out / "r.json"),
            "--report-html",
            str(out / "r.html"),
            "--junit",
            str(out / "junit.xml"),
        ]
    )
    # THEN it fails as the verdict says, and the three files say why
    assert code == EXIT_FAILED
    report = json.loads((out / "r.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["source"] == "cli" and report["verdict"] == "FAILED"
    assert report["failing"][0]["check"] == "health"
    page = (out / "r.html").read_text()
    assert page.index('data-check="health"') < page.index('data-check="home"')
    xml = junitparser.JUnitXml.fromfile(str(out / "junit.xml"))
    assert sum(s.failures for s in xml) == 1
    for name in ("r.json", "r.html", "junit.xml"):
        assert TOKEN not in (out / name).read_text()


def test_report_renders_a_report_written_earlier(serve: Any, tmp_path: Path, capsys: Any) -> None:
    # GIVEN a JSON report written by an earlier check
    server = serve(routes=failing_routes())
    spec = write_spec(tmp_path, server.url)
    assert main(["check", "--spec", str(spec), "--quiet", "--report-json", str(tmp_path / "r.json")]) == EXIT_FAILED
    capsys.readouterr()
    # WHEN greenlight report renders it
    code = main(["report", str(tmp_path / "r.json"), "-o", str(tmp_path / "page.html")])
    # THEN the page is written and its path printed
    assert code == EXIT_OK
    assert capsys.readouterr().out.strip() == str(tmp_path / "page.html")
    assert "<svg" in (tmp_path / "page.html").read_text()


def test_report_names_a_file_that_is_no_report(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 7}')
    assert main(["report", str(bad)]) == EXIT_USAGE
    assert f"{bad}: schema_version 7 is not 1" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.json")]) == EXIT_USAGE
    assert "cannot read" in capsys.readouterr().err


def test_twin_writes_a_report_per_hook_of_a_deployment(tmp_path: Path) -> None:
    # GIVEN a twin deployment's outcome as the hooks' logs gave it (measurements with their times)
    measurements = (
        {"status": "PASS", "reason": "200 in 3ms", "duration_ms": 3.0, "at": 1000.0},
        {"status": "FAIL", "reason": "status 503, expected 200", "duration_ms": 4.0, "at": 1000.5},
    )
    health = CheckOutcome("health", "http", "FAIL", "1 failed", {"PASS": 1, "FAIL": 1}, measurements)
    hook = HookOutcome(HOOK, "fn", "Failed", "health failed", 1.5, checks=(health,), verdict="FAILED")
    outcome = DeploymentOutcome(
        "CODE_DEPLOY", "d-ABCDEFGHI", "3.0.0", "2.0.0", "Failed", False, True, "hook failed", hooks=(hook,)
    )
    # WHEN its reports are written
    pages = write_reports(outcome, tmp_path)
    # THEN one HTML page and its JSON per hook, the JSON valid, naming the versions
    assert pages == (tmp_path / "d-ABCDEFGHI" / f"1-{HOOK}.html",)
    report = json.loads(pages[0].with_suffix(".json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["source"] == "twin"
    assert report["deployment"]["versions"] == {"green": "3.0.0", "blue": "2.0.0"}
    assert [m["t"] for m in report["checks"][0]["measurements"]] == [1000.0, 1000.5]
    assert 'class="latency"' in pages[0].read_text()
