"""What the end-to-end tests share besides fixtures: the template, the twin's short timings, a twin's life.

A module of its own (not conftest.py): several folders have a conftest.py, and `from conftest import ...`
finds whichever was imported first.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from greenlight_twin.controller import Twin, TwinConfig
from greenlight_twin.processes import child_processes
from greenlight_twin.progress import ConsoleProgress

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "examples" / "twin"
# The deployable template, so the twin runs the functions exactly as they are deployed.
TEMPLATE = ROOT / "template.yaml"
# Short everything: the load balancer checks health twice a second and publishes metrics every second.
E2E_TWIN = {
    "hook_timeout": 20.0,
    "health_interval": 0.5,
    "metrics_interval": 1.0,
    "deregistration_delay": 1.0,
}


def start_twin(config: TwinConfig) -> Iterator[Twin]:
    """Runs a twin; at the end stops it and asserts that no process it started is left."""
    before = {pid for pid, _ in child_processes()}
    twin = Twin(config, progress=ConsoleProgress(sys.stdout, verbose=True, color=False))
    try:
        twin.start()
        yield twin
    finally:
        twin.close()
        left = [(pid, cmd) for pid, cmd in child_processes() if pid not in before]
        assert not left, f"the twin left processes behind: {left}"
