"""pytest fixtures to assert, in a few lines, that a greenlight spec accepts a good build and rejects a broken one.

    def test_spec_rejects_unhealthy_build(greenlight_twin):
        outcome = greenlight_twin.deploy("greenlight.yaml", env={"FAULT_UNHEALTHY": "true"})
        assert outcome.rollback_cause == "hook-failed"
        assert outcome.check("health").status == "FAIL"

`outcome.rolled_back` only says green was not promoted; `outcome.rollback_cause` says why: "hook-failed"
(a greenlight hook failed: the spec rejected the build) or "other" (green never started, no hook ran, the
deployment was stopped), so a spec that can never reject anything does not pass such a test by accident.

Fixtures (registered through the `pytest11` entry point `greenlight_twin`, or with
`pytest -p greenlight_twin.pytest_plugin`):

- `greenlight_twin_config` (module scope): the `TwinConfig` the twin is built from. By default the
  twin brings everything: the sample service, and its own template of the hook functions running the
  installed greenlight package, so a repository of yours needs nothing but its spec. Override it in
  your conftest.py to run your own service (`service_command=[..., "{port}"]`, `health_path=...`),
  your own SAM template and code (`template=`, `code=`), the ECS controller, shorter hook timeouts.
- `greenlight_twin` (module scope): a running `Twin` (greenlight_twin.controller). Every process it
  started is stopped when the module's tests end, even when one failed.

Options: `--greenlight-twin-progress` prints each deployment as it plays (with `-s`). Tests are skipped
(not failed) when the Lambda Runtime Interface Emulator cannot be found or fetched, or off Linux.

Importing this module is cheap: the twin (moto, the load balancer) is imported when a fixture runs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from greenlight_twin.controller import Twin, TwinConfig


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("greenlight-twin", "greenlight's local blue/green twin")
    group.addoption(
        "--greenlight-twin-progress",
        action="store_true",
        default=False,
        help="print each twin deployment's steps, hooks and checks as they happen (use with -s)",
    )


@pytest.fixture(scope="module")
def greenlight_twin_config() -> TwinConfig:
    """The twin's configuration: the sample service, the twin's own hook template, CodeDeploy, 30 s hook timeout."""
    from greenlight_twin.controller import TwinConfig

    return TwinConfig(hook_timeout=30.0)


@pytest.fixture(scope="module")
def greenlight_twin(greenlight_twin_config: TwinConfig, request: pytest.FixtureRequest) -> Iterator[Twin]:
    """A running twin for this module's tests; stopped (every process reaped) at the module's end."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the greenlight twin runs the Lambda Runtime Interface Emulator, a Linux binary")
    from greenlight_twin.controller import Twin
    from greenlight_twin.functions import RieNotFoundError, find_rie
    from greenlight_twin.progress import ConsoleProgress

    config = greenlight_twin_config
    if config.rie is None:
        try:
            find_rie()
        except RieNotFoundError as exc:
            pytest.skip(f"Lambda Runtime Interface Emulator unavailable: {exc}")
    progress: Any = (
        ConsoleProgress(sys.stdout) if request.config.getoption("--greenlight-twin-progress", default=False) else None
    )
    twin = Twin(config, progress=progress)
    try:
        twin.start()
        yield twin
    finally:
        twin.close()
