"""Child processes of the twin (services, Lambda emulators): ports on 127.0.0.1, and stopping a whole session.

Each child is started in a session of its own (`start_new_session=True`), so stopping it reaches every
process it started, including ones that moved to another process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterable
from pathlib import Path

HOST = "127.0.0.1"


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
