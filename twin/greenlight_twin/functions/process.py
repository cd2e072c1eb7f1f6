"""One function in one Runtime Interface Emulator process on 127.0.0.1: started, invoked, and stopped whole."""

from __future__ import annotations

import http.client
import importlib.util
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from greenlight_twin.functions.errors import (
    HandlerImportError,
    LambdaInvokeError,
    LambdaStartError,
    PortInUseError,
    RieNotFoundError,
)
from greenlight_twin.functions.invocation import InvocationResult, decode_answer
from greenlight_twin.functions.template import FunctionConfig
from greenlight_twin.processes import LiveChildren, free_port, port_is_free, session_members, wait_listening

__all__ = ["INVOKE_PATH", "INVOKE_WAIT_MARGIN", "LambdaProcess"]

logger = logging.getLogger(__name__)

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# How long an invocation may take beyond the function's own timeout before the caller gives up: the
# first invocation also imports the handler, and the emulator answers a timeout ~0.1 s after it.
INVOKE_WAIT_MARGIN = 30.0

_LIVE: LiveChildren[LambdaProcess] = LiveChildren()


class _PortClash(Exception):
    pass


def _handler_module_found(code_dir: Path, handler: str) -> tuple[bool, str]:
    module, sep, attribute = handler.rpartition(".")
    if not sep or not module or not attribute:
        raise HandlerImportError(f"handler {handler!r}: expected 'module.function' (e.g. package.module.handler)")
    # awslambdaric accepts both dotted and slashed module paths.
    relative = Path(*module.replace("/", ".").split("."))
    candidates = [code_dir / relative.with_suffix(".py"), code_dir / relative / "__init__.py"]
    if any(candidate.is_file() for candidate in candidates):
        return True, ""
    if any((code_dir / relative).parent.glob(f"{relative.name}.*.so")):
        return True, ""
    return False, " or ".join(str(c.relative_to(code_dir)) for c in candidates)


class LambdaProcess:
    """One function in one emulator process on 127.0.0.1; invocations run one at a time.

    Made by `LambdaRuntime.start`. A context manager: leaving it stops the process.
    """

    def __init__(
        self,
        config: FunctionConfig,
        *,
        rie: Path,
        python: str,
        log_path: Path,
        environment: Mapping[str, str],
        port: int | None = None,
        rie_log_level: str = "info",
        start_timeout: float = 10.0,
        check_handler: bool = True,
    ) -> None:
        self.config = config
        self.rie = Path(rie)
        self.python = python
        self.log_path = Path(log_path)
        self.environment = dict(environment)
        self.requested_port = port
        self.rie_log_level = rie_log_level
        self.start_timeout = start_timeout
        self.check_handler = check_handler
        self.port: int | None = None
        self.runtime_api_port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = f"pid={self.pid} port={self.port}" if self.running else "stopped"
        return f"<LambdaProcess {self.config.function_name} {state}>"

    @property
    def name(self) -> str:
        return self.config.function_name

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def url(self) -> str:
        if self.port is None:
            raise LambdaInvokeError(f"{self.name}: not started")
        return f"http://127.0.0.1:{self.port}{INVOKE_PATH}"

    def pids(self) -> list[int]:
        """The emulator's pid and every process it started (the runtime), while they exist."""
        if self._proc is None:
            return []
        members = set(session_members(self._proc.pid))
        if self._proc.poll() is None:
            members.add(self._proc.pid)
        return sorted(members)

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> LambdaProcess:
        if self._proc is not None:
            raise LambdaStartError(f"{self.name}: already started (pid {self._proc.pid})")
        self._preflight()
        attempts = 1 if self.requested_port else 3
        for attempt in range(1, attempts + 1):
            port = self.requested_port or free_port()
            if self.requested_port and not port_is_free(port):
                raise PortInUseError(f"{self.name}: 127.0.0.1:{port} is already in use")
            api_port = free_port(exclude={port})
            try:
                self._launch(port, api_port)
                self._wait_ready()
            except _PortClash as exc:
                self._reap()
                # Another process took a port between choosing and binding it; choose again.
                if attempt == attempts:
                    raise PortInUseError(f"{self.name}: {exc}\n{self.log_tail()}") from None
                continue
            except BaseException:
                self.stop()
                raise
            logger.info("%s: emulator pid %s on %s (log %s)", self.name, self.pid, self.url, self.log_path)
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def _preflight(self) -> None:
        config = self.config
        if not self.rie.is_file() or not os.access(self.rie, os.X_OK):
            raise RieNotFoundError(f"{self.name}: emulator binary {self.rie} is missing or not executable")
        if not config.code_dir.is_dir():
            raise HandlerImportError(f"{config.logical_id} ({self.name}): code folder {config.code_dir} does not exist")
        if int(config.timeout) < 1:
            raise LambdaStartError(f"{config.logical_id} ({self.name}): timeout must be >= 1 s, got {config.timeout}")
        if self.check_handler:
            found, looked_for = _handler_module_found(config.code_dir, config.handler)
            if not found:
                raise HandlerImportError(
                    f"{config.logical_id} ({self.name}): handler {config.handler!r}: no {looked_for} under "
                    f"{config.code_dir}; Lambda imports the handler from the function's CodeUri"
                )
        if Path(self.python).resolve() == Path(sys.executable).resolve() and (
            importlib.util.find_spec("awslambdaric") is None
        ):
            raise LambdaStartError(
                f"awslambdaric is not installed for {self.python}: pip install 'ecs-greenlight[twin]'"
            )

    def _launch(self, port: int, api_port: int) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(self.rie),
            "--log-level", self.rie_log_level,
            "--runtime-interface-emulator-address", f"127.0.0.1:{port}",
            "--runtime-api-address", f"127.0.0.1:{api_port}",
            self.python, "-m", "awslambdaric", self.config.handler,
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"--- greenlight {stamp}: {' '.join(cmd)} (cwd {self.config.code_dir})\n".encode())
            log.flush()
            # A session of its own: stop() can then find and signal everything the emulator started.
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.config.code_dir,
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.port, self.runtime_api_port = port, api_port
        _LIVE.add(self)

    def _wait_ready(self) -> None:
        assert self._proc is not None and self.port is not None and self.runtime_api_port is not None
        # The invoke server and the Runtime API both listen at start-up; the function itself
        # starts on the first invocation.
        try:
            code = wait_listening(self._proc, [self.port, self.runtime_api_port], self.start_timeout, interval=0.02)
        except TimeoutError:
            raise LambdaStartError(
                f"{self.name}: the emulator did not listen on 127.0.0.1:{self.port} within "
                f"{self.start_timeout:.0f} s\n{self.log_tail()}"
            ) from None
        if code is not None:
            tail = self.log_tail()
            if "address already in use" in tail:
                raise _PortClash(f"port {self.port} or {self.runtime_api_port} is already in use")
            raise LambdaStartError(f"{self.name}: the emulator exited with code {code} while starting\n{tail}")

    def stop(self, grace: float = 5.0) -> None:
        """Stops the emulator and its runtime and waits for them; safe to call twice."""
        # SIGTERM lets the emulator SIGKILL the runtime it started; the runtime has its own process group,
        # which the session sweep reaches.
        _LIVE.stop(self, self._proc, grace)

    def _reap(self) -> None:
        self.stop(grace=1.0)
        self._proc = None
        self.port = self.runtime_api_port = None

    def __enter__(self) -> LambdaProcess:
        if self._proc is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- invocations ------------------------------------------------------------------------------
    def invoke(self, event: Any, timeout: float | None = None) -> InvocationResult:
        """Invokes the function with `event` (JSON-serialisable) and waits for its answer.

        `timeout` bounds the wait in seconds (default: the function's timeout plus a margin); the
        function's own timeout comes back as `timed_out`. Invocations of one process run one at a time.
        """
        try:
            body = json.dumps(event).encode()
        except (TypeError, ValueError) as exc:
            raise LambdaInvokeError(f"{self.name}: the event is not JSON: {exc}") from exc
        wait = timeout if timeout is not None else self.config.timeout + INVOKE_WAIT_MARGIN
        request_id = str(uuid.uuid4())
        with self._lock:
            if not self.running:
                raise LambdaInvokeError(f"{self.name}: not running{self._exit_detail()}")
            assert self.port is not None
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=wait)
            try:
                connection.request(
                    "POST",
                    INVOKE_PATH,
                    body=body,
                    headers={"Content-Type": "application/json", "X-Amzn-RequestId": request_id},
                )
                response = connection.getresponse()
                status, raw = response.status, response.read()
            except TimeoutError as exc:
                raise LambdaInvokeError(
                    f"{self.name}: no answer within {wait:.1f} s (the function keeps running until its own "
                    f"{self.config.timeout} s timeout)"
                ) from exc
            except (OSError, http.client.HTTPException) as exc:
                time.sleep(0.05)  # lets a dying emulator finish exiting, so the detail names its exit code
                raise LambdaInvokeError(f"{self.name}: invocation failed: {exc}{self._exit_detail()}") from exc
            finally:
                connection.close()
            duration_ms = (time.monotonic() - started) * 1000.0
        return self._result(status, raw, request_id, duration_ms)

    def _result(self, status: int, raw: bytes, request_id: str, duration_ms: float) -> InvocationResult:
        result = decode_answer(
            status, raw, request_id, duration_ms=duration_ms, function_name=self.name, log_path=self.log_path
        )
        if result is None:
            text = raw.decode("utf-8", errors="replace")
            raise LambdaInvokeError(
                f"{self.name}: the emulator answered HTTP {status}: {text[:500]!r}{self._exit_detail()}"
            )
        return result

    # -- logs -------------------------------------------------------------------------------------
    def log_tail(self, lines: int = 20) -> str:
        """The last lines this process wrote to its log (this start only)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                size = log.tell()
                log.seek(max(self._log_offset, size - 64 * 1024))
                data = log.read().decode("utf-8", errors="replace")
        except OSError as exc:
            return f"(log {self.log_path} unreadable: {exc})"
        tail = data.splitlines()[-lines:]
        return f"last lines of {self.log_path}:\n" + "\n".join(f"  {line}" for line in tail)

    def _exit_detail(self) -> str:
        if self._proc is None:
            return ""
        code = self._proc.poll()
        state = "running" if code is None else f"exited with code {code}"
        return f"; the emulator (pid {self._proc.pid}) {state}\n{self.log_tail()}"
