"""Fixtures for the sample service tests: app/ importable, and real server processes cleaned up."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
APP_DIR = HERE.parents[1] / "app"

# app/ is not an installed package: its modules import each other by plain name, as in the image.
# This folder goes on the path too, so the tests import sample_app_harness whatever pytest's
# import mode.
for folder in (APP_DIR, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from sample_app_harness import REPO, ServiceProcess, Spawn, service_env  # noqa: E402


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start processes (argv, env extras, cwd); each is stopped and reaped at teardown, pass or fail."""
    started: list[ServiceProcess] = []

    def _spawn(argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path = REPO) -> ServiceProcess:
        stderr_file = (tmp_path / f"stderr-{len(started)}.txt").open("w+", encoding="utf-8")
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=service_env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
            # Its own process group, so teardown can reach a worker the master left behind.
            start_new_session=True,
        )
        service = ServiceProcess(proc, stderr_file)
        started.append(service)
        return service

    yield _spawn
    for service in started:
        service.cleanup()
