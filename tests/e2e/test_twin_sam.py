"""Whole deployments through the twin with the SAM backend: the hook functions under `sam local start-lambda`.

The functions are built by `sam build` from this project's template.yaml for this machine's architecture and run
in Docker containers on the Lambda runtime's Python (3.13), as `sam local` runs them; they reach the twin's AWS
endpoint (moto) and load balancer at the Docker bridge's address. Needs a Docker engine and a python3.13 Lambda
image (scripts/docker-engine, make lambda-image); without them the tests are skipped, and .ci/run, which provides
both, fails when they were skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenlight_twin.controller import Twin, TwinConfig
from greenlight_twin.functions.rie import rie_arch
from greenlight_twin.processes import child_processes
from greenlight_twin.progress import ConsoleProgress

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DEMO = ROOT / "examples" / "twin" / "demo.yaml"
TEST_TRAFFIC_HOOK = {"CODE_DEPLOY": "AfterAllowTestTraffic", "ECS": "POST_TEST_TRAFFIC_SHIFT"}
IMAGE_ENV = "GREENLIGHT_SAM_IMAGE"


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture(scope="session")
def lambda_image() -> str:
    """The image SAM runs the functions in: $GREENLIGHT_SAM_IMAGE, else the one make lambda-image builds, else SAM's."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the SAM backend is exercised on Linux only")
    try:
        engine = _docker("info", "--format", "{{.ServerVersion}}")
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"no Docker engine (docker: {exc}): scripts/docker-engine start")
    if engine.returncode != 0:
        pytest.skip("no Docker engine answers: scripts/docker-engine start (installs Debian's docker.io if needed)")
    arch = rie_arch()
    candidates = [os.environ.get(IMAGE_ENV, ""), f"greenlight/lambda-python3.13:{arch}"]
    candidates.append(f"public.ecr.aws/lambda/python:3.13-{arch}")
    for image in filter(None, candidates):
        if _docker("image", "inspect", image).returncode == 0:
            return image
    pytest.skip(f"no python3.13 Lambda image ({', '.join(filter(None, candidates))}): make lambda-image")


@pytest.fixture(scope="module", params=["CODE_DEPLOY", "ECS"])
def sam_twin(
    request: pytest.FixtureRequest, lambda_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Twin]:
    """A twin of each controller whose hook functions run under sam local start-lambda; no process left after it."""
    config = TwinConfig(
        controller=request.param,
        template=TEMPLATE,
        lambda_backend="sam",
        sam_image=lambda_image,
        workdir=tmp_path_factory.mktemp(f"sam-{request.param.lower()}"),
        # A function's first invocation builds its container image and starts it: far slower than the emulator.
        hook_timeout=120.0,
        health_interval=0.5,
        metrics_interval=1.0,
        deregistration_delay=1.0,
    )
    before = {pid for pid, _ in child_processes()}
    twin = Twin(config, progress=ConsoleProgress(sys.stdout, verbose=True, color=False))
    try:
        twin.start()
        yield twin
    finally:
        twin.close()
        left = [(pid, cmd) for pid, cmd in child_processes() if pid not in before]
        assert not left, f"the twin left processes behind: {left}"


def _sam_log(twin: Twin) -> str:
    return (twin.workdir / "lambda" / "sam-start-lambda.log").read_text(errors="replace")


def test_sam_backend_promotes_a_good_green(sam_twin: Twin) -> None:
    # GIVEN a twin whose hook functions run in SAM's containers
    blue = sam_twin.live_version

    # WHEN a healthy green is deployed
    outcome = sam_twin.deploy(DEMO)

    # THEN it is promoted by the checks the functions ran in the containers
    assert outcome.promoted, outcome.summary()
    assert sam_twin.live_version != blue
    hook = TEST_TRAFFIC_HOOK[sam_twin.controller]
    assert outcome.check("health").status == "PASS", outcome.summary()
    assert [h.status for h in outcome.hooks if h.hook == hook] in (["Succeeded"], ["SUCCEEDED"])
    log = _sam_log(sam_twin)
    assert "SAM_CONTAINER_ID" in log and "(python3.13)" in log, log[-2000:]
    assert all(h.log_path and h.log_path.endswith("sam-start-lambda.log") for h in outcome.hooks)


def test_sam_backend_rolls_back_an_unhealthy_green(sam_twin: Twin) -> None:
    # GIVEN the live version before the deployment
    blue = sam_twin.live_version

    # WHEN a green whose /health answers 503 is deployed
    outcome = sam_twin.deploy(DEMO, env={"FAULT_UNHEALTHY": "true"})

    # THEN the hook in the container fails it and the controller rolls back
    assert outcome.rolled_back and not outcome.promoted, outcome.summary()
    assert sam_twin.live_version == blue
    check = outcome.check("health")
    assert check.status == "FAIL" and "503" in check.reason, outcome.summary()
    assert outcome.status in ("Failed", "ROLLBACK_SUCCESSFUL"), outcome.summary()
