"""Helpers for the sample service tests: real server processes on 127.0.0.1 and a small HTTP client."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

REPO = Path(__file__).resolve().parents[2]
APP_DIR = REPO / "app"
SERVER = APP_DIR / "server.py"

# Variables the service reads; scrubbed from the inherited environment so a developer's shell
# cannot change what a test sees.
SERVICE_VARIABLES = (
    "APP_VERSION",
    "PORT",
    "FAULT_UNHEALTHY",
    "FAULT_LATENCY_MS",
    "FAULT_LATENCY_PATHS",
    "FAULT_ERROR_RATE",
    "FAULT_WRONG_VERSION",
)
# Bounds on waiting, generous because the test machine is small and shared; not timings.
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0
HTTP_TIMEOUT_S = 10.0


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick for an ephemeral bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARIABLES}
    env.update(extra or {})
    return env


@dataclass
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: Any


def http_get(url: str) -> HttpAnswer:
    """GET a URL on 127.0.0.1 and decode its JSON body; error statuses are answers, not exceptions."""
    assert url.startswith("http://127.0.0.1:"), url
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
            return HttpAnswer(response.status, dict(response.headers), json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpAnswer(exc.code, dict(exc.headers), json.loads(exc.read()))


@dataclass
class ServiceProcess:
    """A sample service process with its stdout read line by line and its stderr kept in a file."""

    proc: subprocess.Popen[str]
    stderr_file: IO[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        # A thread drains stdout so waiting for a line can be bounded and the pipe never fills.
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stderr(self) -> str:
        self.stderr_file.flush()
        return Path(self.stderr_file.name).read_text(encoding="utf-8", errors="replace")

    def next_line(self, timeout_s: float = START_TIMEOUT_S) -> str | None:
        """The next stdout line, or None at end of output; fails the test if none comes in time."""
        try:
            return self.lines.get(timeout=timeout_s)
        except queue.Empty:
            pytest.fail(f"no output within {timeout_s}s; stderr:\n{self.stderr()}")

    def wait_until_serving(self, url: str, timeout_s: float = START_TIMEOUT_S) -> None:
        """Poll ``url`` until it accepts a connection (for a process that prints no ready line)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"exited with {self.proc.returncode} before serving; stderr:\n{self.stderr()}")
            try:
                http_get(url)
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        pytest.fail(f"{url} not served within {timeout_s}s; stderr:\n{self.stderr()}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """Send ``sig`` and wait (bounded) for the process to exit; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {timeout_s}s after signal {sig}; stderr:\n{self.stderr()}")

    def cleanup(self) -> None:
        """Teardown: SIGTERM, then SIGKILL to the process group (gunicorn's worker included)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        # The process leads its own session (see spawn), so its group holds only what it started.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT_S)
        # Output ends with the process group; let the reader finish before closing its pipe.
        self._reader.join(timeout=STOP_TIMEOUT_S)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr_file.close()


Spawn = Callable[..., ServiceProcess]
