"""What containers reach of the twin: TCP relays from the Docker bridge address to the twin's ports on 127.0.0.1.

A function run by `sam local` is in a container on Docker's bridge network: 127.0.0.1 there is the container
itself, and the host is the bridge's gateway address (docker0, e.g. 172.17.0.1). The twin keeps every server on
127.0.0.1 and, for the ports containers need (moto, the load balancer's listeners), a relay listens on the bridge
address at the same port and forwards each connection to 127.0.0.1. The bridge address is not an external
interface: only this host and its containers can reach it. Nothing is ever bound to another address.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import logging
import socket
import struct
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

from greenlight_twin.functions.errors import LambdaStartError

__all__ = ["BridgeRelay", "bridge_address", "bridge_interfaces", "is_bridge_address"]

logger = logging.getLogger(__name__)

_SIOCGIFADDR = 0x8915
_BRIDGE_PREFIXES = ("docker", "br-")


def _interface_address(name: str) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])


def bridge_interfaces() -> dict[str, str]:
    found = {}
    with contextlib.suppress(OSError):
        for entry in Path("/sys/class/net").iterdir():
            name = entry.name
            if name.startswith(_BRIDGE_PREFIXES):
                address = _interface_address(name)
                if address:
                    found[name] = address
    return found


def is_bridge_address(address: str) -> bool:
    """True for an address of a Docker bridge interface of this host (docker0, br-...)."""
    return address in bridge_interfaces().values()


def bridge_address(network: str = "bridge") -> str:
    """The host's address on Docker network `network` (its gateway), as containers on it reach the host."""
    try:
        done = subprocess.run(  # nosec B603 B607  # the Docker CLI from PATH, with fixed arguments
            ["docker", "network", "inspect", network, "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LambdaStartError(f"cannot ask Docker for network {network!r}: {exc}") from exc
    for word in done.stdout.split():
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(word).version == 4 and is_bridge_address(word):
                return word
    bridges = bridge_interfaces()
    if network == "bridge" and "docker0" in bridges:
        return bridges["docker0"]
    detail = (done.stderr or done.stdout).strip()[:200]
    raise LambdaStartError(
        f"no host address on Docker network {network!r} ({detail or 'no gateway'}): is a Docker engine running? "
        "scripts/docker-engine start (installs Debian's docker.io if needed)"
    )


class BridgeRelay:
    """Relays `address:port` -> 127.0.0.1:port for each port given; stop() closes every listener and connection."""

    def __init__(self, address: str) -> None:
        if not is_bridge_address(address):
            raise LambdaStartError(
                f"{address} is not the address of a Docker bridge interface of this host: the twin binds nothing else"
            )
        self.address = address
        self._listeners: dict[int, socket.socket] = {}
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def url(self, loopback_url: str) -> str:
        """`loopback_url` (http://127.0.0.1:PORT...) as containers reach it."""
        return loopback_url.replace("://127.0.0.1:", f"://{self.address}:").replace(
            "://localhost:", f"://{self.address}:"
        )

    def add(self, ports: Iterable[int]) -> None:
        for port in ports:
            if port in self._listeners:
                continue
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((self.address, port))
            except OSError as exc:
                listener.close()
                raise LambdaStartError(f"cannot relay {self.address}:{port} to 127.0.0.1:{port}: {exc}") from exc
            listener.listen(64)
            self._listeners[port] = listener
            threading.Thread(target=self._accept, args=(listener, port), name=f"relay-{port}", daemon=True).start()

    def _accept(self, listener: socket.socket, port: int) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
                upstream.settimeout(None)
            except OSError as exc:
                logger.warning("relay %s:%s: 127.0.0.1:%s refused: %s", self.address, port, port, exc)
                client.close()
                continue
            with self._lock:
                self._connections.update((client, upstream))
            pair = [2]  # directions still open; the last one to end closes both sockets
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink, pair), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, pair: list[int]) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        with self._lock:
            pair[0] -= 1
            last = pair[0] == 0
            if last:
                self._connections.difference_update((source, sink))
        if last:
            source.close()
            sink.close()

    def stop(self) -> None:
        self._stopped.set()
        for listener in self._listeners.values():
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        self._listeners.clear()
        with self._lock:
            connections, self._connections = set(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.close()
