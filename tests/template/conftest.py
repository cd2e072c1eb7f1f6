"""Fixtures of the template tests: template.yaml as data, read once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from greenlight_twin.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml with intrinsics in their long form ({"Ref": ..}, {"Fn::Sub": ..})."""
    return load_template(TEMPLATE)
