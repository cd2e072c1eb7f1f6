"""Every hook event the twin sends, played for real, against what AWS documents ECS and CodeDeploy send.

The twin's players build their events themselves; this runs whole deployments through `greenlight twin play
--json` (the command line, as a user runs it) and passes every invocation it lists through the checkers
transcribed from AWS's documentation (`ecs_contract`, sources in `fixtures/*.json`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ecs_contract import problems_with_codedeploy_hook_event, problems_with_ecs_hook_event

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

# A check at every stage a Lambda hook can run at, so the twin invokes the hook at each of them.
EVERY_STAGE = """\
version: 1
target: {test_url: auto, prod_url: auto}
defaults: {timeout: 2s, interval: 200ms}
settings: {report_reserve: 3s}
hooks:
  PRE_SCALE_UP: [{name: a, http: {listener: prod, path: /health}, count: 1}]
  POST_SCALE_UP: [{name: b, http: {listener: prod, path: /health}, count: 1}]
  TEST_TRAFFIC_SHIFT: [{name: c, http: {listener: prod, path: /health}, count: 1}]
  POST_TEST_TRAFFIC_SHIFT: [{name: d, http: {path: /health}, count: 1}]
  PRE_PRODUCTION_TRAFFIC_SHIFT: [{name: e, http: {path: /health}, count: 1}]
  PRODUCTION_TRAFFIC_SHIFT: [{name: f, http: {listener: prod, path: /health}, count: 1}]
  POST_PRODUCTION_TRAFFIC_SHIFT: [{name: g, http: {listener: prod, path: /health}, count: 1}]
"""

# Green fails its production step: ECS rolls back and runs PRODUCTION_TRAFFIC_SHIFT again with green at 0.
FAILS_IN_PRODUCTION = """\
version: 1
target: {test_url: auto, prod_url: auto}
defaults: {timeout: 2s, interval: 200ms}
settings: {report_reserve: 3s}
hooks:
  PRODUCTION_TRAFFIC_SHIFT:
    - {name: green-version, identity: {listener: test, path: /version, json: version, expected: {value: "0.0.0"}},
       count: 1}
"""


def play(rie_binary: Path, tmp_path: Path, spec: str, *args: str) -> dict[str, Any]:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(spec)
    done = subprocess.run(
        [sys.executable, "-m", "greenlight_cli", "twin", "play", "--spec", str(spec_file), "--template", str(TEMPLATE),
         "--json", *args],
        capture_output=True, text=True, timeout=240, env={**os.environ, "GREENLIGHT_RIE": str(rie_binary)}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    outcome: dict[str, Any] = json.loads(done.stdout)
    return outcome


def ecs_problems(outcome: dict[str, Any]) -> list[str]:
    """Every documented difference, for each invocation of a played ECS deployment.

    AWS documents PRE_PRODUCTION_TRAFFIC_SHIFT's production map for the first traffic step only (green 0). At a
    later LINEAR/CANARY step the twin sends production as it stands before the step, which is the previous
    step's PRODUCTION_TRAFFIC_SHIFT map (docs/twin.md lists this as an inference): that is checked instead of 0.
    """
    problems = []
    previous_step: dict[str, Any] | None = None
    for call in outcome["invocations"]:
        where = f"{call['hook']} (step {call.get('step')}, rollback {call['rollback']})"
        found = problems_with_ecs_hook_event(call["event"], stage=call["hook"], rollback=bool(call["rollback"]))
        production = call["event"]["executionDetails"]["productionTrafficWeights"]
        if call["hook"] == "PRE_PRODUCTION_TRAFFIC_SHIFT" and previous_step is not None:
            found = [p for p in found if not p.endswith("at PRE_PRODUCTION_TRAFFIC_SHIFT, ECS gives it 0")]
            if production != previous_step:
                found.append(f"production map {production}, the previous step left {previous_step}")
        if call["hook"] == "PRODUCTION_TRAFFIC_SHIFT" and not call["rollback"]:
            previous_step = production
        problems.extend(f"{where}: {problem}" for problem in found)
    return problems


def test_twin_ecs_events_at_every_stage_follow_aws(rie_binary: Path, tmp_path: Path) -> None:
    # GIVEN a check at every stage, WHEN a good green is deployed BLUE_GREEN through the twin
    outcome = play(rie_binary, tmp_path, EVERY_STAGE, "--controller", "ECS")

    # THEN the hook ran at every stage, each event exactly as ECS documents it for that stage
    assert outcome["status"] == "SUCCESSFUL"
    hooks = [call["hook"] for call in outcome["invocations"]]
    assert hooks == [
        "PRE_SCALE_UP",
        "POST_SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRE_PRODUCTION_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
    ]
    assert ecs_problems(outcome) == []


def test_twin_ecs_events_under_canary_follow_aws(rie_binary: Path, tmp_path: Path) -> None:
    # GIVEN a check at every stage, WHEN green is deployed as a 25% canary
    outcome = play(
        rie_binary, tmp_path, EVERY_STAGE, "--controller", "ECS", "--strategy", "CANARY", "--canary-percent", "25",
        "--step-bake", "0",
    )  # fmt: skip

    # THEN PRODUCTION_TRAFFIC_SHIFT ran at each step with that step's weights, every event as ECS documents it
    assert outcome["status"] == "SUCCESSFUL"
    steps = [call for call in outcome["invocations"] if call["hook"] == "PRODUCTION_TRAFFIC_SHIFT"]
    target = steps[0]["event"]["executionDetails"]["targetServiceRevisionArn"]
    green = [call["event"]["executionDetails"]["productionTrafficWeights"][target] for call in steps]
    assert green == [25, 100]
    assert ecs_problems(outcome) == []


def test_twin_ecs_rollback_event_follows_aws(rie_binary: Path, tmp_path: Path) -> None:
    # GIVEN green failing its production traffic shift, WHEN it is deployed through the twin
    outcome = play(rie_binary, tmp_path, FAILS_IN_PRODUCTION, "--controller", "ECS", "--expect", "rolled-back")

    # THEN PRODUCTION_TRAFFIC_SHIFT ran again for the rollback: green at 0, the target still green
    assert outcome["rolled_back"] is True
    rollbacks = [call for call in outcome["invocations"] if call["rollback"]]
    assert [call["hook"] for call in rollbacks] == ["PRODUCTION_TRAFFIC_SHIFT"]
    details = rollbacks[0]["event"]["executionDetails"]
    assert details["productionTrafficWeights"][details["targetServiceRevisionArn"]] == 0
    assert ecs_problems(outcome) == []


def test_twin_codedeploy_events_follow_aws(rie_binary: Path, tmp_path: Path) -> None:
    # GIVEN the same checks keyed by CodeDeploy hook names, WHEN a good green is deployed under CodeDeploy
    spec = EVERY_STAGE.replace("POST_SCALE_UP", "AfterInstall").replace(
        "POST_TEST_TRAFFIC_SHIFT", "AfterAllowTestTraffic"
    )
    spec = spec.replace("PRE_PRODUCTION_TRAFFIC_SHIFT", "BeforeAllowTraffic")
    spec = spec.replace("POST_PRODUCTION_TRAFFIC_SHIFT", "AfterAllowTraffic").replace("PRE_SCALE_UP", "BeforeInstall")
    spec = "\n".join(line for line in spec.splitlines() if "TRAFFIC_SHIFT:" not in line) + "\n"
    outcome = play(rie_binary, tmp_path, spec)

    # THEN each hook was sent exactly what CodeDeploy documents: a deployment id and a hook execution id
    assert outcome["status"] == "Succeeded"
    hooks = [call["hook"] for call in outcome["invocations"]]
    assert hooks == [
        "BeforeInstall",
        "AfterInstall",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AfterAllowTraffic",
    ]
    for call in outcome["invocations"]:
        assert problems_with_codedeploy_hook_event(call["event"]) == [], call
