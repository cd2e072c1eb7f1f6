"""The twin's ECS tasks: blue and green as real processes of a service on 127.0.0.1, started and reaped.

A task is one process started from a command line in which `{port}` stands for the port it must
listen on (the twin picks a free one); the default command is the sample service the twin ships (the
package greenlight_sample_app, app/ in the source tree). A task is running once its port accepts
connections, like an ECS task whose container has started: whether it is healthy is the load
balancer's business, not the task's. Each task runs in a session of its own,
so stopping it signals every process it started (gunicorn's workers too), and stop() always reaps.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from greenlight_twin.processes import (
    HOST,
    LiveChildren,
    free_port,
    process_is_running,
    session_members,
    wait_listening,
)

__all__ = [
    "PORT_PLACEHOLDER",
    "ServiceError",
    "ServiceSide",
    "ServiceStartError",
    "ServiceTask",
    "live_pids",
    "parse_command",
    "sample_service_command",
]

logger = logging.getLogger(__name__)

PORT_PLACEHOLDER = "{port}"
DEFAULT_START_TIMEOUT = 30.0
# Variables of the sample service that must come from the task's own settings only, never from the
# environment the twin itself runs in (a FAULT_UNHEALTHY exported in a shell would break blue too).
_SERVICE_VARIABLES = (
    "APP_VERSION",
    "PORT",
    "FAULT_UNHEALTHY",
    "FAULT_LATENCY_MS",
    "FAULT_LATENCY_PATHS",
    "FAULT_ERROR_RATE",
    "FAULT_WRONG_VERSION",
)
# Never handed to a task: credentials and endpoints belong to the twin's AWS, not to the service.
_PRIVATE_PREFIXES = ("AWS_",)

_LIVE: LiveChildren[ServiceTask] = LiveChildren()


class ServiceError(Exception):
    """Base of the errors raised while running the service's tasks."""


class ServiceStartError(ServiceError):
    """A task exited, or never listened on its port, while starting; the message holds its log's tail."""


def sample_service_dir() -> Path:
    """The folder of the sample service's files (installed, or app/ of a checkout in an editable install)."""
    spec = importlib.util.find_spec("greenlight_sample_app")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:
        raise ServiceError(
            "the sample service (package greenlight_sample_app) is not installed; reinstall ecs-greenlight"
        )
    return Path(locations[0])


def sample_service_command() -> list[str]:
    """The sample service (app/server.py) under this interpreter, on 127.0.0.1 and the port the twin picks.

    It ships with the twin as the package `greenlight_sample_app` (the folder app/ of the checkout).
    """
    server = sample_service_dir() / "server.py"
    if not server.is_file():
        raise ServiceError(
            f"the sample service {server} is not there (greenlight runs from an installed package, not a "
            "checkout): give the service's own command, with {port} where its port goes"
        )
    return [sys.executable, str(server), "--host", HOST, "--port", PORT_PLACEHOLDER]


def parse_command(command: str | Sequence[str]) -> list[str]:
    """A command line as a list; it must say where the port goes with `{port}`."""
    words = shlex.split(command) if isinstance(command, str) else [str(word) for word in command]
    if not words:
        raise ServiceError("the service command is empty")
    if not any(PORT_PLACEHOLDER in word for word in words):
        raise ServiceError(
            f"the service command {shlex.join(words)!r} does not say where the port goes: put {PORT_PLACEHOLDER} "
            "where the twin's chosen port must be (e.g. 'python app.py --port {port}'); the service must listen "
            "on 127.0.0.1"
        )
    return words


def task_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The host's environment without AWS settings or the service's own variables, plus `env`."""
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in _SERVICE_VARIABLES and not key.startswith(_PRIVATE_PREFIXES)
    }
    base.update({str(k): str(v) for k, v in env.items()})
    return base


class ServiceTask:
    """One task of the service: a process listening on 127.0.0.1:`port` (chosen at start)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        name: str,
        env: Mapping[str, str] | None = None,
        log_path: Path,
        cwd: Path | None = None,
        start_timeout: float = DEFAULT_START_TIMEOUT,
    ) -> None:
        self.command = parse_command(command)
        self.name = name
        self.env = dict(env or {})
        self.log_path = Path(log_path)
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def __repr__(self) -> str:
        state = f"pid={self.pid} port={self.port}" if self.running else "stopped"
        return f"<ServiceTask {self.name} {state}>"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def target(self) -> tuple[str, int]:
        """(ip, port) as the load balancer registers it."""
        if self.port is None:
            raise ServiceError(f"task {self.name} is not started")
        return (HOST, self.port)

    def argv(self, port: int) -> list[str]:
        return [word.replace(PORT_PLACEHOLDER, str(port)) for word in self.command]

    def start(self) -> ServiceTask:
        """Starts the process and waits until its port accepts connections (a port clash is retried)."""
        if self._proc is not None:
            raise ServiceError(f"task {self.name} is already started (pid {self._proc.pid})")
        for attempt in range(1, 4):
            port = free_port()
            self._launch(port)
            try:
                self._wait_listening()
            except ServiceStartError as exc:
                clash = "address already in use" in str(exc).lower() or "errno 98" in str(exc).lower()
                self.stop(grace=1.0)
                self._proc, self.port = None, None
                if clash and attempt < 3:  # another process took the port between choosing and binding it
                    continue
                raise
            except BaseException:
                self.stop(grace=1.0)
                raise
            logger.info("task %s: pid %s on %s:%s (log %s)", self.name, self.pid, HOST, self.port, self.log_path)
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self, port: int) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = self.argv(port)
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            log.write(f"--- greenlight twin {time.strftime('%H:%M:%S')}: {shlex.join(argv)}\n".encode())
            log.flush()
            try:
                self._proc = subprocess.Popen(
                    argv,
                    cwd=self.cwd,
                    env=task_environment(self.env),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # stop() signals the whole session: gunicorn's workers too
                )
            except OSError as exc:
                raise ServiceStartError(f"task {self.name}: cannot run {argv[0]!r}: {exc}") from exc
        self.port = port
        _LIVE.add(self)

    def _wait_listening(self) -> None:
        assert self._proc is not None and self.port is not None
        try:
            code = wait_listening(self._proc, [self.port], self.start_timeout, interval=0.05)
        except TimeoutError:
            raise ServiceStartError(
                f"task {self.name} did not listen on {HOST}:{self.port} within {self.start_timeout:.0f} s "
                f"(does the command put {PORT_PLACEHOLDER} where its port goes?)\n{self.log_tail()}"
            ) from None
        if code is not None:
            raise ServiceStartError(f"task {self.name} exited with code {code} while starting\n{self.log_tail()}")

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM to the task's session, SIGKILL after `grace`, then reaps; safe to call twice."""
        _LIVE.stop(self, self._proc, grace)

    def pids(self) -> list[int]:
        """The task's process and every process it started, while they exist."""
        if self._proc is None:
            return []
        members = {pid for pid in session_members(self._proc.pid) if process_is_running(pid)}
        if self._proc.poll() is None:
            members.add(self._proc.pid)
        return sorted(members)

    def log_tail(self, lines: int = 15) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                data = log.read().decode("utf-8", errors="replace")
        except OSError as exc:
            return f"(log {self.log_path} unreadable: {exc})"
        tail = data.splitlines()[-lines:]
        return f"last lines of {self.log_path}:\n" + "\n".join(f"  {line}" for line in tail)


class ServiceSide:
    """The tasks of one side (a task set): N processes of the same command, version and settings.

    `env` applies to every task; `task_env[i]` adds to task i's (one bad task among good ones).
    """

    def __init__(
        self,
        label: str,
        *,
        command: Sequence[str],
        version: str,
        tasks: int = 1,
        env: Mapping[str, str] | None = None,
        task_env: Sequence[Mapping[str, str]] = (),
        log_dir: Path,
        start_timeout: float = DEFAULT_START_TIMEOUT,
    ) -> None:
        if isinstance(tasks, bool) or not isinstance(tasks, int) or not 1 <= tasks <= 20:
            raise ServiceError(f"{label}: tasks must be a whole number from 1 to 20, got {tasks!r}")
        if len(task_env) > tasks:
            raise ServiceError(f"{label}: task_env has {len(task_env)} entries for {tasks} task(s)")
        self.label = label
        self.version = version
        self.command = parse_command(command)
        self.env = dict(env or {})
        self.task_env = [dict(e) for e in task_env]
        self.tasks: list[ServiceTask] = []
        stamp = time.strftime("%H%M%S")
        for index in range(tasks):
            task_vars = {"APP_VERSION": version, **self.env}
            if index < len(self.task_env):
                task_vars.update(self.task_env[index])
            self.tasks.append(
                ServiceTask(
                    self.command,
                    name=f"{label}-{version}-{index + 1}",
                    env=task_vars,
                    log_path=Path(log_dir) / f"{label}-{version}-{stamp}-{index + 1}.log",
                    start_timeout=start_timeout,
                )
            )

    @property
    def targets(self) -> list[tuple[str, int]]:
        return [task.target for task in self.tasks]

    @property
    def running(self) -> bool:
        return all(task.running for task in self.tasks)

    def start(self) -> ServiceSide:
        """Starts every task at once; if one fails, all are stopped and the first error is raised."""
        errors: list[BaseException] = []

        def start_one(task: ServiceTask) -> None:
            try:
                task.start()
            except BaseException as exc:  # reported below, after every start has ended
                errors.append(exc)

        threads = [threading.Thread(target=start_one, args=(t,), name=f"start-{t.name}") for t in self.tasks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            self.stop()
            raise errors[0]
        return self

    def stop(self, grace: float = 5.0) -> None:
        """Stops every task (in parallel: each may take up to `grace` to finish its requests)."""
        threads = [threading.Thread(target=t.stop, args=(grace,), name=f"stop-{t.name}") for t in self.tasks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def pids(self) -> list[int]:
        return sorted(pid for task in self.tasks for pid in task.pids())

    def describe(self) -> str:
        faults = {k: v for k, v in self.env.items() if k.startswith("FAULT_")}
        extra = f", {', '.join(f'{k}={v}' for k, v in faults.items())}" if faults else ""
        per_task = [
            f"task {i + 1}: {', '.join(f'{k}={v}' for k, v in e.items())}" for i, e in enumerate(self.task_env) if e
        ]
        if per_task:
            extra += f" ({'; '.join(per_task)})"
        return f"{self.version}, {len(self.tasks)} task(s){extra}"

    def __iter__(self) -> Iterator[ServiceTask]:
        return iter(self.tasks)

    def __enter__(self) -> ServiceSide:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def live_pids() -> list[int]:
    """Every process of every task this interpreter started and has not stopped yet."""
    return sorted(pid for task in _LIVE.snapshot() for pid in task.pids())
