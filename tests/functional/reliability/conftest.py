"""Fixtures for the reliability and security guarantees: the twin's AWS, fresh caches, full output capture."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The harness here and the server toolkit in tests/support are imported by plain name whatever pytest's import mode.
HERE = Path(__file__).resolve().parent
TESTS = HERE.parents[1]
for _path in (HERE, TESTS):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from hook_harness import Twin, hanging_kind, twin, twin_server  # noqa: E402, F401  (fixtures for this folder)

from greenlight import secrets  # noqa: E402
from greenlight.probe import redact  # noqa: E402
from support.servers import loopback_guard  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    """No secret cached or remembered from another test, and no connection outside the loopback range."""
    secrets.clear_cache()
    redact.forget_all()
    with loopback_guard() as refused:
        yield
    assert not refused, f"a test tried to reach addresses outside 127.0.0.0/8: {refused}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of every logger, DEBUG included (botocore and urllib3 log request details there)."""
    caplog.set_level(logging.DEBUG)
    return caplog
