"""`compare` in whole deployments through the local twin, under both controllers: a release slower than blue
that a fixed latency bound lets through is rolled back; the same build on both sides is promoted.

The spec is examples/twin/compare.yaml plus an `identity` check on the production listener expecting blue's
version, which shows that during the test-traffic hook (CodeDeploy's AfterAllowTestTraffic, ECS's
POST_TEST_TRAFFIC_SHIFT) production still serves blue, so `compare` measures blue against green.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from greenlight_twin.controller import Twin
from greenlight_twin.outcome import DeploymentOutcome

pytestmark = pytest.mark.e2e

SPEC = Path(__file__).resolve().parents[2] / "examples" / "twin" / "compare.yaml"


def spec_with_blue_check(twin: Twin, tmp_path: Path) -> Path:
    """compare.yaml with a check that production answers with blue's version during the hook."""
    doc = yaml.safe_load(SPEC.read_text())
    doc["hooks"]["AfterAllowTestTraffic"].append(
        {
            "name": "production-is-blue",
            "identity": {
                "listener": "prod",
                "path": "/",
                "header": "X-App-Version",
                "expected": {"value": twin.live_version},
            },
        }
    )
    path = tmp_path / "compare.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def comparison(outcome: DeploymentOutcome) -> dict[str, Any]:
    """The details of the compare check's last measurement: outcome, score, both sides' samples."""
    details: dict[str, Any] = outcome.check("as-fast-as-blue").measurements[-1]["details"]
    return details


def test_compare_rolls_back_a_slower_release_within_max_latency(twin: Twin, version: str, tmp_path: Path) -> None:
    # GIVEN a green 150 ms slower than blue: well within the 1000 ms max_latency_ms of `fast-enough`
    spec = spec_with_blue_check(twin, tmp_path)
    # WHEN it is deployed
    outcome = twin.deploy(spec, version=version, env={"FAULT_LATENCY_MS": "150"})
    # THEN the fixed bound passed it, compare failed it, and the deployment rolled back
    assert outcome.rolled_back and not outcome.promoted, outcome.summary()
    assert outcome.check("fast-enough").status == "PASS", outcome.summary()
    assert outcome.check("production-is-blue").status == "PASS", outcome.summary()
    compare = outcome.check("as-fast-as-blue")
    assert compare.status == "FAIL" and "green is slower" in compare.reason, outcome.summary()
    details = comparison(outcome)
    green, blue = details["green"], details["blue"]
    assert green["latency_ms"]["p50"] - blue["latency_ms"]["p50"] > 100


def test_compare_promotes_the_same_build(twin: Twin, version: str, tmp_path: Path) -> None:
    # GIVEN green is the same service as blue (only its version number differs)
    spec = spec_with_blue_check(twin, tmp_path)
    # WHEN it is deployed
    outcome = twin.deploy(spec, version=version)
    # THEN compare passed it (PASS, or MARGINAL, which passes), with every sample answered, and it was promoted
    assert outcome.promoted, outcome.summary()
    assert outcome.check("production-is-blue").status == "PASS"
    details = comparison(outcome)
    assert details["outcome"] in ("PASS", "MARGINAL"), outcome.summary()
    assert details["green"]["sent"] == details["blue"]["sent"] == 30
    assert details["green"]["errors"] == details["blue"]["errors"] == 0
