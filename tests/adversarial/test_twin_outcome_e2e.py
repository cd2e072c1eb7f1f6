"""`greenlight twin play --expect` on a real twin: a failed hook and a green that never started are told apart.

Each case plays a real deployment (moto, the twin's load balancer, the sample service's tasks, the hook
functions in the Lambda Runtime Interface Emulator, all on 127.0.0.1) through the real entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "twin" / "demo.yaml"

pytestmark = pytest.mark.e2e


@pytest.fixture
def green_never_starts(tmp_path: Path) -> str:
    """A service command whose blue (1.0.0) runs the sample service and whose green exits at once."""
    script = tmp_path / "service.sh"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$APP_VERSION" != "1.0.0" ]; then echo "green refuses to start" >&2; exit 1; fi\n'
        f'exec {sys.executable} {ROOT / "app" / "server.py"} --host 127.0.0.1 --port "$1"\n'
    )
    script.chmod(0o755)
    return f"{script} {{port}}"


def play(rie_binary: Path, *args: str) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "greenlight_cli", "twin", "play", "--spec", str(DEMO), "--json", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, "GREENLIGHT_RIE": str(rie_binary)},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.mark.parametrize(("expect", "code"), [("rolled-back", 1), ("rolled-back-other", 0)])
def test_twin_outcome_green_that_never_started_is_not_a_rejection_by_the_spec(
    rie_binary: Path, green_never_starts: str, expect: str, code: int
) -> None:
    # GIVEN green's tasks exit as soon as they start: no hook can run
    # WHEN the deployment is played, expecting a rollback by a hook, or one for another reason
    returned, outcome = play(rie_binary, "--service-command", green_never_starts, "--expect", expect)
    print(f"[twin] green never started, --expect {expect}: exit {returned}, {outcome['reason']}")
    # THEN it was not promoted, no hook ran, the cause is "other": --expect rolled-back fails, rolled-back-other passes
    assert outcome["promoted"] is False and outcome["hooks"] == []
    assert outcome["rollback_cause"] == "other"
    assert returned == code


def test_twin_outcome_failed_hook_is_a_rejection_by_the_spec(rie_binary: Path) -> None:
    # GIVEN green answers /health with 503
    # WHEN the deployment is played expecting the spec to reject it
    returned, outcome = play(rie_binary, "--green-env", "FAULT_UNHEALTHY=true", "--expect", "rolled-back")
    print(f"[twin] unhealthy green, --expect rolled-back: exit {returned}, {outcome['reason']}")
    # THEN a hook failed, and --expect rolled-back holds
    assert outcome["rollback_cause"] == "hook-failed"
    assert returned == 0
