"""The `load` section in whole deployments through the local twin, under both controllers: load sent during
the test-traffic hook (CodeDeploy's AfterAllowTestTraffic, ECS's POST_TEST_TRAFFIC_SHIFT) gives green's target
group requests a `metric` check sees, and a `load` check rolls back a green that errors under load.

The spec is examples/twin/load.yaml.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from greenlight_twin.controller import Twin

pytestmark = pytest.mark.e2e

SPEC = Path(__file__).resolve().parents[2] / "examples" / "twin" / "load.yaml"


def test_load_gives_green_requests_a_metric_check_sees(twin: Twin, version: str) -> None:
    # GIVEN a healthy green, which no traffic but the hook's own reaches behind the test listener
    # WHEN it is deployed with the load section
    outcome = twin.deploy(SPEC, version=version)
    # THEN green's target group counted requests, the load check passed, and green was promoted
    assert outcome.promoted, outcome.summary()
    metric = outcome.check("green-serves-requests")
    assert metric.status == "PASS", outcome.summary()
    under_load = outcome.check("under-load")
    assert under_load.status == "PASS", outcome.summary()
    details = under_load.measurements[-1]["details"]
    assert details["sent"] >= 40 and details["error_count"] == 0, details


def test_without_load_the_metric_check_sees_no_requests(twin: Twin, version: str, tmp_path: Path) -> None:
    # GIVEN the same spec without its load section (and without the load check, which needs it)
    doc = yaml.safe_load(SPEC.read_text())
    del doc["load"]
    doc["hooks"]["AfterAllowTestTraffic"] = [c for c in doc["hooks"]["AfterAllowTestTraffic"] if "load" not in c]
    spec = tmp_path / "no-load.yaml"
    spec.write_text(yaml.safe_dump(doc))
    # WHEN a healthy green is deployed
    outcome = twin.deploy(spec, version=version)
    # THEN green's target group served no request the metric could count: the check fails, the deployment rolls back
    assert outcome.rolled_back, outcome.summary()
    assert outcome.check("green-serves-requests").status == "FAIL", outcome.summary()


def test_load_check_rolls_back_a_green_that_errors_under_load(twin: Twin, version: str) -> None:
    # GIVEN a green that answers half its requests to / and /health with 500
    # WHEN it is deployed
    outcome = twin.deploy(SPEC, version=version, env={"FAULT_ERROR_RATE": "0.5"})
    # THEN the load check failed it on its error rate, and the deployment rolled back
    assert outcome.rolled_back and not outcome.promoted, outcome.summary()
    under_load = outcome.check("under-load")
    assert under_load.status == "FAIL" and "error rate" in under_load.reason, outcome.summary()
    details = under_load.measurements[-1]["details"]
    assert details["errors"].get("http_5xx", 0) > 0, details
