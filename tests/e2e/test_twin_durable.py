"""CodeDeploy validations longer than the hook function, through the twin: handed to the durable worker.

The hook functions run in the Lambda Runtime Interface Emulator with a 20 s timeout (TwinConfig
function_timeout, `greenlight twin play --function-timeout 20`); the spec's check needs 19 s, so the hook
function starts the durable worker (an Invoke with a DurableExecutionName, which the twin's moto routes to
the worker) and returns. The worker runs in the twin under the SDK's local runner with real waits, in
rounds (one measurement each: its 6 s interval is longer than the 5 s a round holds), and reports to
CodeDeploy: the deployment is promoted for a good green and rolled back for one whose requests fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from greenlight_twin.aws import durable as twin_durable
from greenlight_twin.controller import Twin, TwinConfig

pytestmark = pytest.mark.e2e

SPEC = Path(__file__).resolve().parents[2] / "examples" / "twin" / "durable.yaml"


@pytest.fixture(scope="module")
def twin(rie_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    from e2e_support import E2E_TWIN, TEMPLATE, start_twin

    config = TwinConfig(
        controller="CODE_DEPLOY",
        template=TEMPLATE,
        rie=rie_binary,
        workdir=tmp_path_factory.mktemp("twin-durable"),
        function_timeout=20,
        **{**E2E_TWIN, "hook_timeout": 60.0},  # type: ignore[arg-type]
    )
    yield from start_twin(config)


def test_durable_good_green_is_promoted_after_rounds_beyond_the_function_timeout(twin: Twin, version: str) -> None:
    # WHEN a good release is deployed with a validation longer than the hook function's timeout
    outcome = twin.deploy(str(SPEC), version=version, hooks=["AfterAllowTestTraffic"])
    # THEN the durable worker validated it over several rounds and CodeDeploy promoted it
    assert outcome.promoted, outcome.summary()
    worker = twin.functions.worker
    assert worker is not None and worker.executions
    result = worker.wait(worker.executions[-1])
    rounds = [op.name for op in result.operations if op.name and op.name.startswith("round-")]
    assert len(rounds) >= 2, rounds
    assert twin_durable.started(worker.function_name)


def test_durable_green_failing_is_rolled_back_by_the_worker(twin: Twin, version: str) -> None:
    # WHEN a release whose every second request fails is deployed
    outcome = twin.deploy(str(SPEC), version=version, env={"FAULT_ERROR_RATE": "0.5"}, hooks=["AfterAllowTestTraffic"])
    # THEN the worker's verdict rolled it back
    assert outcome.rolled_back and not outcome.promoted, outcome.summary()
    worker = twin.functions.worker
    result = worker.wait(worker.executions[-1])
    assert '"verdict": "FAILED"' in result.result
