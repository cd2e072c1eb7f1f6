"""A validation report (greenlight.reporting.report) as JUnit XML, for CI systems that show test results.

One `<testsuite>` per validation (the hook), one `<testcase>` per check: FAIL is a `<failure>`, ERROR an `<error>`,
INCONCLUSIVE and PAUSED are `<skipped>` (not decided), a dry-run check that would have failed passes with its
reason in `<system-out>`. The failure message is the check's reason; its text lists the failing assertions.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # nosec B405  # builds and writes XML, never parses any
from collections.abc import Mapping
from typing import Any


def _seconds(check: Mapping[str, Any]) -> float:
    return sum(float(m.get("latency_ms") or 0) for m in check.get("measurements") or ()) / 1000


# Characters XML 1.0 does not allow at all (C0 controls but tab, line feed and carriage return; surrogates; U+FFFE
# and U+FFFF). Text from a server or a hand-made report may hold them; a parser rejects the whole file for one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(value: Any) -> Any:
    """`value` with every string's characters that XML cannot hold written as escapes (\\x1b, \\ud800)."""
    if isinstance(value, str):
        return _NOT_XML.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), value)
    if isinstance(value, Mapping):
        return {k: _xml_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_xml_safe(v) for v in value]
    return value


def render(report: Mapping[str, Any]) -> str:
    """The JUnit XML of `report`."""
    report = _xml_safe(report)
    checks = list(report.get("checks") or ())
    suite_name = f"greenlight.{report.get('hook', 'hook')}"
    failures = sum(1 for c in checks if c.get("status") == "FAIL" and not c.get("dry_run"))
    errors = sum(1 for c in checks if c.get("status") == "ERROR" and not c.get("dry_run"))
    skipped = sum(1 for c in checks if c.get("status") in ("INCONCLUSIVE", "PAUSED") and not c.get("dry_run"))
    duration = report.get("duration_ms")
    suites = ET.Element("testsuites", name="greenlight")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=suite_name,
        tests=str(len(checks)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time=f"{(duration or 0) / 1000:.3f}",
        timestamp=str(report.get("created_at", "")).rstrip("Z"),
    )
    props = ET.SubElement(suite, "properties")
    dep = report.get("deployment") or {}
    for name, value in (
        ("verdict", report.get("verdict")),
        ("reason", report.get("reason")),
        ("controller", report.get("controller")),
        ("deployment", dep.get("id")),
        ("green_version", (dep.get("versions") or {}).get("green")),
    ):
        if value not in (None, ""):
            ET.SubElement(props, "property", name=name, value=str(value))
    for c in checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=suite_name,
            name=f"{c.get('name')} ({c.get('kind')})",
            time=f"{_seconds(c):.3f}",
        )
        status = c.get("status")
        bad = [m.get("reason", "") for m in c.get("measurements") or () if m.get("status") != "PASS"]
        text = "\n".join(f"{c.get('name')}: {reason}" for reason in bad[-10:]) or str(c.get("reason", ""))
        if c.get("dry_run"):
            if status != "PASS":
                ET.SubElement(case, "system-out").text = f"dry run, would have been {status}: {c.get('reason')}"
            continue
        if status == "FAIL":
            ET.SubElement(case, "failure", message=str(c.get("reason", "")), type="FAIL").text = text
        elif status == "ERROR":
            ET.SubElement(case, "error", message=str(c.get("reason", "")), type="ERROR").text = text
        elif status in ("INCONCLUSIVE", "PAUSED"):
            ET.SubElement(case, "skipped", message=str(c.get("reason", "")))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
