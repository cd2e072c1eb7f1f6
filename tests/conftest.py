"""Shared test setup: the tests folder is importable (tests/support), and AWS calls never leave this machine."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# No test may reach a real AWS endpoint or pick up a developer's credentials.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ["AWS_DEFAULT_REGION"] = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "greenlight")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "greenlight")


@pytest.fixture(scope="session")
def rie_binary() -> Path:
    """The Lambda Runtime Interface Emulator (from a .venv-sam or the user's cache, or fetched from the aws-sam-cli
    wheel); the test is skipped where it cannot run."""
    from greenlight_twin.functions import RieNotFoundError, find_rie

    if not sys.platform.startswith("linux"):
        pytest.skip("the Lambda Runtime Interface Emulator is a Linux binary")
    try:
        return find_rie()
    except RieNotFoundError as exc:
        pytest.skip(f"Lambda Runtime Interface Emulator unavailable: {exc}")
