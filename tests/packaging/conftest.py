"""Fixtures of the packaging tests: what pyproject.toml declares, read once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# This folder goes on the path, so the tests import layout_of_dist whatever pytest's import mode.
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from layout_of_dist import load_pyproject  # noqa: E402


@pytest.fixture(scope="session")
def pyproject() -> dict[str, Any]:
    return load_pyproject()
