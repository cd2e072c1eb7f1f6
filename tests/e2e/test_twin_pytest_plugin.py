"""The pytest plugin as a user's own test suite uses it: a few lines assert what a spec accepts and rejects.

The user's suite runs in a separate pytest process (in a temporary folder, outside this project's
configuration); its `greenlight_twin` fixture starts a twin there (the sample service's tasks and the
hook functions' emulators as children of that process) and stops it when the module ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

SPECS = Path(__file__).resolve().parents[2] / "examples" / "twin"

USER_TESTS = """
import pytest

from greenlight_twin.controller import TwinConfig

SPEC = {spec!r}


@pytest.fixture(scope="module")
def greenlight_twin_config():
    return TwinConfig(hook_timeout=20.0)


def test_spec_accepts_good_build(greenlight_twin):
    assert greenlight_twin.deploy(SPEC).promoted


def test_spec_rejects_unhealthy_build(greenlight_twin):
    outcome = greenlight_twin.deploy(SPEC, env={{"FAULT_UNHEALTHY": "true"}})
    assert outcome.rolled_back
    assert outcome.check("health").status == "FAIL"


def test_spec_accepts_unhealthy_build(greenlight_twin):
    # deliberately wrong: this one must fail, with the check's reason in the report
    outcome = greenlight_twin.deploy(SPEC, env={{"FAULT_UNHEALTHY": "true"}})
    assert outcome.promoted, outcome.summary()
"""


def plugin_registered() -> bool:
    return any(ep.value == "greenlight_twin.pytest_plugin" for ep in metadata.entry_points(group="pytest11"))


def test_pytest_plugin_user_suite_asserts_accept_and_reject(rie_binary: Path, tmp_path: Path) -> None:
    """Runs a user's suite of three tests with the plugin in a pytest subprocess (one twin for the module)."""
    # GIVEN a user's test module written against the plugin's fixtures
    module = tmp_path / "test_my_spec.py"
    module.write_text(USER_TESTS.format(spec=str(SPECS / "demo.yaml")))
    plugin = [] if plugin_registered() else ["-p", "greenlight_twin.pytest_plugin"]

    # WHEN pytest runs it
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "-q", "-rf", str(module)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "GREENLIGHT_RIE": str(rie_binary)},
        check=False,
    )

    # THEN the accept and reject assertions hold, and the wrong one fails saying which check failed
    output = done.stdout + done.stderr
    assert "2 passed" in output and "1 failed" in output, output
    assert "FAILED test_my_spec.py::test_spec_accepts_unhealthy_build" in output
    assert "FAIL  health (http)" in output
