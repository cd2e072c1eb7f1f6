"""ECS PAUSE hooks through the twin: the deployment pauses, the durable worker validates, ContinueServiceDeployment.

The twin plays ECS native blue/green with a PAUSE lifecycle hook at POST_TEST_TRAFFIC_SHIFT (TwinConfig
pause_stage, `greenlight twin play --pause-stage POST_TEST_TRAFFIC_SHIFT`): the service deployment waits
AWAITING_ACTION, the "ECS Hook State Change" event goes to the template's PauseHook (in the Runtime
Interface Emulator, 10 s timeout), which starts the durable worker (the SDK's local runner in the twin,
real waits). The spec's check needs 19 s, several rounds beyond the functions' timeout; the worker's
ContinueServiceDeployment decides: CONTINUE promotes a good green, ROLLBACK rolls back one whose tasks
die half-way through the validation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from greenlight_twin.aws import durable as twin_durable
from greenlight_twin.controller import Twin, TwinConfig
from greenlight_twin.outcome import HOOK_FAILED, TIMED_OUT
from greenlight_twin.progress import HOOK, Event

pytestmark = pytest.mark.e2e

SPEC = Path(__file__).resolve().parents[2] / "examples" / "twin" / "durable-pause.yaml"
STAGE = "POST_TEST_TRAFFIC_SHIFT"


@pytest.fixture(scope="module")
def twin(rie_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    from e2e_support import E2E_TWIN, TEMPLATE, start_twin

    config = TwinConfig(
        controller="ECS",
        template=TEMPLATE,
        rie=rie_binary,
        workdir=tmp_path_factory.mktemp("twin-pause"),
        function_timeout=10,
        pause_stage=STAGE,
        **{**E2E_TWIN, "hook_timeout": 60.0},  # type: ignore[arg-type]
    )
    yield from start_twin(config)


def _rounds(twin: Twin) -> list[str]:
    worker = twin.functions.worker
    assert worker is not None and worker.executions
    result = worker.wait(worker.executions[-1])
    return [op.name for op in result.operations if op.name and op.name.startswith("round-")]


def test_pause_good_green_is_continued_after_rounds_beyond_the_function_timeout(twin: Twin, version: str) -> None:
    # WHEN a good release is deployed through a PAUSE hook whose validation outlasts the hook functions
    outcome = twin.deploy(str(SPEC), version=version)
    # THEN the durable worker validated it over several rounds and its CONTINUE promoted it
    assert outcome.promoted, outcome.summary()
    hook = next(h for h in outcome.hooks if h.hook == STAGE)
    assert hook.status == "SUCCEEDED" and "CONTINUE" in hook.reason, hook
    assert hook.duration > twin.function_timeout, hook.duration
    assert len(_rounds(twin)) >= 2


def test_pause_green_degrading_half_way_is_rolled_back(twin: Twin, version: str) -> None:
    # GIVEN green's tasks die 9 s after the durable worker starts: its measurements at about 0 s and 6 s pass,
    # the later ones fail. Counted from the worker's start, not the pause's, so a slow start on a loaded machine
    # cannot move the first measurements past green's end.
    timers: list[threading.Thread] = []
    done = threading.Event()

    def executions() -> int:
        worker = twin.functions.worker  # made by the deployment that first needs it
        return len(worker.executions) if worker is not None else 0

    def degrade_once_the_worker_runs(player: Any, before: int) -> None:
        waited = 0.0
        while executions() == before and waited < 60 and not done.is_set():
            time.sleep(0.1)
            waited += 0.1
        if not done.wait(9.0):
            player.green.stop(grace=1.0)

    def progress(event: Event) -> None:
        twin.progress(event)
        if event.kind == HOOK and "PAUSE hook awaiting action" in event.message:
            player = twin._current  # the deployment being played: its green side is what degrades
            assert player is not None and player.green is not None
            thread = threading.Thread(target=degrade_once_the_worker_runs, args=(player, executions()), daemon=True)
            timers.append(thread)
            thread.start()

    # WHEN the release is deployed through the PAUSE hook
    try:
        outcome = twin.deploy(str(SPEC), version=version, progress=progress)
    finally:
        done.set()
        for timer in timers:
            timer.join(5)
    # THEN the worker passed rounds before green degraded, then its ROLLBACK rolled the deployment back, the
    # PAUSE hook recorded as the failing hook (what `--expect rolled-back` checks)
    assert timers, "the PAUSE hook never awaited action"
    assert outcome.rolled_back and not outcome.promoted, outcome.summary()
    assert outcome.rollback_cause == HOOK_FAILED
    assert outcome.failed_hook is not None and outcome.failed_hook.hook == STAGE
    assert "ROLLBACK" in outcome.failed_hook.reason
    worker = twin.functions.worker
    result = worker.wait(worker.executions[-1])  # once: the SDK's runner answers the first wait on an execution
    rounds = [op.name for op in result.operations if op.name and op.name.startswith("round-")]
    assert len(rounds) >= 3, rounds
    assert '"verdict": "FAILED"' in result.result


def test_pause_hook_timeout_rolls_back(twin: Twin, version: str) -> None:
    # GIVEN an EventBridge target slower than the hook: the worker starts only 6 s after the PauseHook asks
    worker = twin.functions.worker
    before = len(worker.executions)

    def slow_start(name: str, payload: bytes) -> str:
        time.sleep(6.0)
        return str(worker.start(name, payload))

    twin_durable.register_worker(worker.function_name, slow_start)
    try:
        # WHEN the deployment pauses with a 4 s hook timeout
        outcome = twin.deploy(str(SPEC), version=version, hook_timeout=4.0)
        # the late worker still starts (and finds the hook no longer awaiting action); wait for it before the end
        waited = 0.0
        while len(worker.executions) == before and waited < 30:
            time.sleep(0.2)
            waited += 0.2
    finally:
        twin_durable.register_worker(worker.function_name, worker.start)
    # THEN the hook took its timeout action, ROLLBACK, and is the failing hook
    assert outcome.rolled_back and not outcome.promoted, outcome.summary()
    assert outcome.failed_hook is not None and outcome.failed_hook.hook == STAGE
    assert outcome.failed_hook.status == TIMED_OUT and "ROLLBACK" in outcome.failed_hook.reason
    assert outcome.rollback_cause == HOOK_FAILED
    assert len(worker.executions) == before + 1
    worker.wait(worker.executions[-1])


def test_pause_twin_play_cli_promotes_through_the_pause_hook(rie_binary: Path, tmp_path: Path) -> None:
    """`greenlight twin play --controller ECS --pause-stage ...` with the twin's own template."""
    # WHEN the spec is played through a PAUSE hook from the command line, expecting a promotion
    done = subprocess.run(
        [
            sys.executable, "-m", "greenlight_cli", "twin", "play", "--controller", "ECS", "--pause-stage", STAGE,
            "--function-timeout", "10", "--spec", str(SPEC), "--workdir", str(tmp_path / "work"), "--json",
            "--expect", "promoted",
        ],
        capture_output=True, text=True, timeout=180, env={**os.environ, "GREENLIGHT_RIE": str(rie_binary)}, check=False,
    )  # fmt: skip
    # THEN it exits 0, and the one delivery at the stage is the ECS Hook State Change event of the paused hook
    assert done.returncode == 0, done.stdout + done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["promoted"] is True
    (delivery,) = [call for call in outcome["invocations"] if call["hook"] == STAGE]
    assert delivery["status"] == "DELIVERED" and delivery["function"].endswith("-pause-hook")
    event = delivery["event"]
    assert event["detail-type"] == "ECS Hook State Change" and event["resources"] == [outcome["deployment_id"]]
    assert event["detail"]["targetType"] == "PAUSE" and event["detail"]["status"] == "AWAITING_ACTION"
    assert delivery["answer"]["started"] is True
