"""`greenlight report` given a damaged, hand-made or hostile JSON report: a clear error naming the field, or valid
HTML and JUnit; never a traceback (exit 3) and never an XML file a JUnit parser rejects.

The report read back is one a real run wrote (a failing check against a real HTTP server on 127.0.0.1); the
attacks change one field at a time, and hypothesis replaces fields by arbitrary JSON values. A report that
docs/report.schema.json accepts must always render (checked with jsonschema).
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import junitparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenlight.reporting import report as reports
from greenlight_cli.main import EXIT_OK, EXIT_USAGE, main
from support.report_runs import failing_routes, run_against
from support.servers import HttpServer

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "report.schema.json").read_text())


@pytest.fixture(scope="module")
def written() -> dict[str, Any]:
    """The report of a real failing run, as `greenlight check --report-json` writes it."""
    with HttpServer(routes=failing_routes()) as server:
        run = run_against(server)
    report = reports.from_result(run, source="cli", controller="CODE_DEPLOY", deployment={"id": "d-ABCDEFGHI"})
    jsonschema.validate(report, SCHEMA)
    return report


def render(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run `greenlight report` on `text` as a file; (exit code, what it printed on stderr)."""
    source = tmp_path / "r.json"
    source.write_text(text, encoding="utf-8", errors="surrogatepass")
    code = main(["report", str(source), "-o", str(tmp_path / "r.html"), "--junit", str(tmp_path / "r.xml")])
    return code, capsys.readouterr().err


def changed(report: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> str:
    copied = copy.deepcopy(report)
    change(copied)
    return json.dumps(copied)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda r: r.update(checks=[1, "x", None]), "checks[0]: expected an object, got the int 1"),
        (lambda r: r["checks"][0].update(measurements="abc"), "checks[0].measurements: expected an array"),
        (
            lambda r: r["checks"][1]["measurements"][0].update(latency_ms="fast"),
            "checks[1].measurements[0].latency_ms: expected a finite number or null, got a string",
        ),
        (lambda r: r["checks"][0].update(status=["FAIL"]), "checks[0].status: expected a string, got an array"),
        (lambda r: r.update(deployment="d"), "deployment: expected an object, got a string"),
        (lambda r: r.update(failing={"a": 1}), "failing: expected an array, got an object"),
        (lambda r: r["deployment"].update(versions=[1]), "deployment.versions: expected an object, got an array"),
        (lambda r: r["checks"][0].update(counts={"PASS": "1"}), "checks[0].counts.PASS: expected an integer"),
        (lambda r: r["deployment"].update(weights={"green": True}), "deployment.weights.green: expected a finite"),
        (lambda r: r.update(created_at=5), "created_at: expected a string or null, got the int 5"),
        (lambda r: r["checks"][0].pop("name"), "checks[0].name is missing"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_report_with_a_field_of_the_wrong_type_is_refused_naming_it(
    written: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, named: str
) -> None:
    # GIVEN a report written by a run, one field damaged
    # WHEN greenlight report reads it
    code, err = render(tmp_path, changed(written, change), capsys)
    # THEN it exits 2 naming the file and the field, and writes nothing
    assert code == EXIT_USAGE, err
    assert f"{tmp_path / 'r.json'}: not a valid report: " in err and named in err
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "r.xml").exists()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[" * 5000 + "]" * 5000, "JSON nested too deeply"),
        (
            '{"schema_version": 1, "hook": "h", "verdict": "FAILED", "checks": [], "failing": [], '
            '"deployment": {}, "duration_ms": NaN}',
            "duration_ms: expected a finite number or null, got the float nan",
        ),
        (
            '{"schema_version": 1, "hook": "h", "verdict": "FAILED", "checks": [], "failing": [], '
            '"deployment": {}, "duration_ms": 1e999}',
            "duration_ms: expected a finite number or null, got the float inf",
        ),
    ],
    ids=["deep-nesting", "nan", "infinity"],
)
def test_report_that_json_alone_cannot_refuse_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, named: str
) -> None:
    code, err = render(tmp_path, text, capsys)
    assert code == EXIT_USAGE and named in err, err


def test_report_text_no_xml_can_hold_renders_valid_junit_and_escaped_html(
    written: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a report whose texts hold control characters, a lone surrogate, U+FFFF and markup
    hostile = "down \x00\x1b[31m\x07 <script>alert(1)</script> \ud800 \uffff end"

    def poison(r: dict[str, Any]) -> None:
        r["reason"] = r["checks"][1]["reason"] = r["failing"][0]["reason"] = hostile
        r["checks"][1]["measurements"][-1]["reason"] = hostile
        r["failing"][0]["assertions"] = [hostile]

    # WHEN greenlight report renders it
    code, err = render(tmp_path, changed(written, poison), capsys)
    # THEN both files are written; the JUnit parses (with a JUnit parser) and says where the escapes stand
    assert code == EXIT_OK, err
    suite = next(iter(junitparser.JUnitXml.fromfile(str(tmp_path / "r.xml"))))
    xml_text = (tmp_path / "r.xml").read_text(encoding="utf-8")
    assert "down \\x00\\x1b[31m\\x07" in xml_text and "\\ud800 \\uffff end" in xml_text
    assert any("health" in case.name for case in suite)
    # and the page shows the markup as text, with the surrogate written as its escape
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\ud800" in page


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
PLACES: list[Callable[[dict[str, Any]], tuple[dict[str, Any], str]]] = [
    lambda r: (r, "hook"),
    lambda r: (r, "verdict"),
    lambda r: (r, "reason"),
    lambda r: (r, "duration_ms"),
    lambda r: (r, "target"),
    lambda r: (r, "deployment"),
    lambda r: (r["deployment"], "versions"),
    lambda r: (r["deployment"], "weights"),
    lambda r: (r, "failing"),
    lambda r: (r["failing"][0], "assertions"),
    lambda r: (r, "checks"),
    lambda r: (r["checks"][0], "counts"),
    lambda r: (r["checks"][0], "measurements"),
    lambda r: (r["checks"][1]["measurements"][0], "latency_ms"),
    lambda r: (r["checks"][1]["measurements"][0], "t"),
    lambda r: (r["checks"][1]["measurements"][0], "at"),
    lambda r: (r["checks"][1]["measurements"][0], "details"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(place=st.sampled_from(PLACES), value=JSON_VALUES)
def test_report_with_any_json_in_any_field_renders_or_is_refused_never_crashes(
    written: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], place: Any, value: Any
) -> None:
    # GIVEN a written report with one field replaced by an arbitrary JSON value
    report = copy.deepcopy(written)
    holder, key = place(report)
    holder[key] = value
    for leftover in ("r.html", "r.xml"):
        (tmp_path / leftover).unlink(missing_ok=True)
    # WHEN greenlight report reads it
    code, err = render(tmp_path, json.dumps(report), capsys)
    # THEN it renders (valid XML) or exits 2 naming the report; a report the schema accepts always renders
    assert code in (EXIT_OK, EXIT_USAGE), err
    if code == EXIT_OK:
        ET.parse(tmp_path / "r.xml")
        assert (tmp_path / "r.html").stat().st_size > 0
    else:
        assert "not a valid report" in err or "missing field" in err, err
    if jsonschema.Draft202012Validator(SCHEMA).is_valid(report):
        assert code == EXIT_OK, err
