"""The twin writes each deployment's validation reports, under both controllers: a rolled-back deployment's page
leads with the failing check, and its JSON is the hooks' report (docs/report.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from greenlight_twin.controller import Twin

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "twin" / "demo.yaml"
SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text())
TEST_TRAFFIC_HOOK = {"CODE_DEPLOY": "AfterAllowTestTraffic", "ECS": "POST_TEST_TRAFFIC_SHIFT"}


def test_twin_reports_of_a_rolled_back_deployment(twin: Twin, version: str) -> None:
    # GIVEN / WHEN a green whose /health answers 503 is deployed
    outcome = twin.deploy(DEMO, version=version, env={"FAULT_UNHEALTHY": "true"})
    assert not outcome.promoted
    # THEN the twin wrote the test-traffic hook's report: JSON valid against the schema, and its HTML page
    pages = twin.report_pages[outcome.deployment_id]
    hook = TEST_TRAFFIC_HOOK[twin.controller]
    page = next(p for p in pages if hook in p.name)
    assert page.is_file() and page.parent.parent == twin.workdir / "reports"
    report = json.loads(page.with_suffix(".json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["source"] == "twin" and report["controller"] == twin.controller and report["hook"] == hook
    assert report["deployment"]["versions"]["green"] == version
    assert report["failing"][0]["check"] == "health"
    health = next(c for c in report["checks"] if c["name"] == "health")
    assert health["measurements"] and all(m["t"] is not None for m in health["measurements"])
    html = page.read_text()
    assert html.index('data-check="health"') < html.index('id="timeline"')
    print(f"{twin.controller}: {', '.join(f'{p} ({p.stat().st_size} B)' for p in pages)}")
