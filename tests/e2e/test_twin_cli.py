"""`greenlight twin` from the command line: play in one go, and up / deploy / status / down against a running twin.

Each test runs the command line as real processes (`python -m greenlight ...`), which start their own
twin: moto and the load balancer inside the twin's process, the sample service's tasks and the hook
functions' emulators as its children. The twin process is killed (its whole session) if a test fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenlight_twin.processes import child_processes, process_is_running

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "examples" / "twin"
# The deployable template, so the twin runs the functions exactly as they are deployed.
TEMPLATE = ROOT / "template.yaml"

DEMO = SPECS / "demo.yaml"


def greenlight(*args: str, rie: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "greenlight_cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "GREENLIGHT_RIE": str(rie)},
        check=False,
    )


@pytest.fixture
def twin_up(rie_binary: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """`greenlight twin up --controller ECS` in the background; killed with its whole session at the end."""
    state = tmp_path / "state.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "greenlight_cli",
            "twin",
            "up",
            "--controller",
            "ECS",
            "--template",
            str(TEMPLATE),
            "--state",
            str(state),
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "GREENLIGHT_RIE": str(rie_binary)},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not state.exists():
            assert process.poll() is None, f"twin up exited with {process.returncode}:\n{process.stdout.read()}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "twin up wrote no state file within 60 s"
            time.sleep(0.1)
        yield process, state
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_twin_play_expect_rolled_back_exits_zero(rie_binary: Path, tmp_path: Path) -> None:
    """Runs `greenlight twin play` (its twin: a blue and a green task, the hook functions' emulators)."""
    # GIVEN a build whose /health fails, run by a service command of its own, with the hooks' template and code
    service = (
        f"env GREENLIGHT_E2E_SERVICE=1 {sys.executable} {ROOT / 'app' / 'server.py'} --host 127.0.0.1 --port {{port}}"
    )
    workdir = tmp_path / "work"

    # WHEN the spec is played against it, expecting a rollback
    done = greenlight(
        "twin", "play", "--spec", str(DEMO), "--green-env", "FAULT_UNHEALTHY=true", "--expect", "rolled-back",
        "--template", str(TEMPLATE), "--code", str(ROOT / "hooks"), "--service-command", service,
        "--workdir", str(workdir), "--json", rie=rie_binary,
    )  # fmt: skip

    # THEN the command succeeds, the outcome says why, and the progress went to stderr
    assert done.returncode == 0, done.stdout + done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["rolled_back"] is True
    failing = [c for h in outcome["hooks"] for c in h["checks"] if c["status"] == "FAIL"]
    assert "health" in [c["name"] for c in failing]
    assert "AfterAllowTestTraffic" in done.stderr
    # AND every hook invocation is listed with the event CodeDeploy sent and what the hook reported
    (call,) = outcome["invocations"]
    assert (call["hook"], call["status"]) == ("AfterAllowTestTraffic", "Failed")
    assert call["function"].startswith("CodeDeployHook_")
    assert set(call["event"]) == {"DeploymentId", "LifecycleEventHookExecutionId"}
    assert call["event"]["DeploymentId"] == outcome["deployment_id"]
    # AND blue and green ran the given command, and the functions the given code
    task_logs = "".join(log.read_text() for log in (workdir / "tasks").glob("*.log"))
    assert task_logs.count(f"env GREENLIGHT_E2E_SERVICE=1 {sys.executable}") == 2, task_logs
    function_logs = "".join(log.read_text() for log in (workdir / "lambda").glob("*.log"))
    assert f"(cwd {ROOT / 'hooks'})" in function_logs


def test_twin_up_deploy_status_down(rie_binary: Path, twin_up: tuple[subprocess.Popen[str], Path]) -> None:
    """Runs `greenlight twin up` (ECS) in the background, then deploy, status and down as separate processes."""
    # GIVEN a running twin
    process, state = twin_up

    # WHEN a good build is deployed through it as a 50% canary, then a build with one bad task
    good = greenlight(
        "twin", "deploy", "--spec", str(DEMO), "--version", "7.0.0", "--state", str(state), "--strategy", "canary",
        "--canary-percent", "50", "--step-bake", "0", "--json", rie=rie_binary,
    )  # fmt: skip
    bad = greenlight(
        "twin", "deploy", "--spec", str(SPECS / "per-target.yaml"), "--tasks", "2", "--task-env",
        "2:FAULT_ERROR_RATE=1", "--expect", "rolled-back", "--state", str(state), rie=rie_binary,
    )  # fmt: skip
    status = greenlight("twin", "status", "--state", str(state), rie=rie_binary)

    # THEN the first was promoted, the second rolled back, and production serves the first
    assert good.returncode == 0, good.stdout + good.stderr
    promoted = json.loads(good.stdout)
    assert promoted["status"] == "SUCCESSFUL"
    # every invocation is listed with the event ECS sent: the maps are filled only where traffic shifts
    calls = promoted["invocations"]
    assert [c["hook"] for c in calls] == ["POST_TEST_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"]
    assert all(c["status"] == "SUCCEEDED" and c["answer"]["hookStatus"] == "SUCCEEDED" for c in calls)
    for call in calls:
        details = call["event"]["executionDetails"]
        assert details["testTrafficWeights"] == details["productionTrafficWeights"] == {}
        assert call["event"]["resourceArn"] == promoted["deployment_id"]
    assert "step 1 of 2: 50% to green" in good.stderr
    assert bad.returncode == 0, bad.stdout + bad.stderr
    assert "every-green-task" in bad.stdout and "1 of 2 target(s)" in bad.stdout
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["live"]["version"] == "7.0.0"

    # WHEN the twin is brought down
    started = [pid for pid, _ in child_processes(process.pid)]
    assert started, "the twin runs no task or function?"
    down = greenlight("twin", "down", "--state", str(state), rie=rie_binary)

    # THEN it exits cleanly, removes its state file and leaves no process
    assert down.returncode == 0, down.stderr
    assert process.wait(30) == 0
    assert not state.exists()
    assert not [pid for pid in started if process_is_running(pid)]
