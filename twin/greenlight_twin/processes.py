"""Child processes of the twin (services, Lambda emulators): ports on 127.0.0.1, and stopping a whole session.

Each child is started in a session of its own (`start_new_session=True`), so stopping it reaches every
process it started, including ones that moved to another process group.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Generic, Protocol, TypeVar

HOST = "127.0.0.1"


class _Stoppable(Protocol):
    def stop(self, grace: float = ...) -> None: ...


_Child = TypeVar("_Child", bound=_Stoppable)


class LiveChildren(Generic[_Child]):
    """The children of one kind that this interpreter started and has not stopped yet.

    Whatever is still running when the interpreter exits is stopped then, so a crashed test run or an
    interrupted CLI leaves no process behind.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: set[_Child] = set()
        atexit.register(self.stop_all)

    def add(self, child: _Child) -> None:
        with self._lock:
            self._children.add(child)

    def stop(self, child: _Child, proc: subprocess.Popen[bytes] | None, grace: float) -> None:
        """Stops `proc`'s whole session (see stop_session) and forgets `child`; nothing if it never started."""
        if proc is None:
            return
        stop_session(proc, grace)
        with self._lock:
            self._children.discard(child)

    def snapshot(self) -> list[_Child]:
        with self._lock:
            return list(self._children)

    def stop_all(self) -> None:
        for child in self.snapshot():
            with contextlib.suppress(Exception):
                child.stop(grace=2.0)


class NoFreePortError(OSError):
    """No free port could be found on 127.0.0.1."""


def free_port(exclude: Iterable[int] = ()) -> int:
    """A port on 127.0.0.1 that nothing listens on now (and not one of `exclude`)."""
    excluded = set(exclude)
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in excluded:
            return port
    raise NoFreePortError(f"no free port on {HOST} after 20 tries")


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def accepts(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_listening(proc: subprocess.Popen[bytes], ports: Sequence[int], timeout: float, interval: float) -> int | None:
    """Polls until every one of `ports` accepts connections (then None) or the child exits first (then its
    exit code); raises TimeoutError when neither happens within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        code = proc.poll()
        if code is not None:
            return code
        if all(accepts(port) for port in ports):
            return None
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listened on {HOST} port(s) {list(ports)} within {timeout:.0f} s")
        time.sleep(interval)


def session_members(sid: int) -> list[int]:
    """Processes in session `sid` (Linux /proc)."""
    members = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if os.getsid(int(entry.name)) == sid:
                    members.append(int(entry.name))
    return members


def process_is_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a killed orphan may wait for a reaper that never comes)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not Path("/proc").is_dir()
    # The state follows the parenthesised command name, which may itself contain ") ".
    return stat.rpartition(")")[2].split()[0] != "Z"


def stop_session(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM to the child's process group, SIGKILL after `grace`, then SIGKILL to whatever is left of its
    session (a worker that ignored the signal, or a process that made a group of its own)."""
    sid = proc.pid
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(sid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(sid, signal.SIGKILL)
            proc.wait(grace)
    for pid in session_members(sid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def child_processes(pid: int | None = None) -> list[tuple[int, str]]:
    """(pid, command line) of every living descendant of `pid` (default: this process), from /proc.

    Zombies are left out: they hold no resources, and their parent reaps them.
    """
    root = os.getpid() if pid is None else pid
    parents: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                fields = stat.rpartition(")")[2].split()
                if fields[0] != "Z":
                    parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.append(child)
                frontier.append(child)
    described = []
    for child in sorted(found):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        described.append((child, command))
    return described
