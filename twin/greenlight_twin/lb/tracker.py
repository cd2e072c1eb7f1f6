"""Keeps every thread and socket the load balancer opens, so stop can cut them and join the threads.

A thread blocked on a socket read (a client holding a keep-alive connection, a target that hangs)
only wakes when its socket is shut down; closing the listening sockets alone would leave it waiting
for the idle timeout.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class Tracker:
    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def add_socket(self, sock: socket.socket) -> bool:
        """Tracks `sock`; once closing, shuts it down at once and returns False."""
        with self._lock:
            if not self._closed:
                self._sockets.add(sock)
                return True
        _shutdown(sock)
        return False

    def discard_socket(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self._lock:
                self._sockets.discard(sock)

    def start_thread(self, role: str, target: Callable[..., Any], *args: Any) -> threading.Thread | None:
        """Starts a daemon thread that forgets itself when done; None once closing."""

        def run() -> None:
            try:
                target(*args)
            except Exception:
                logger.exception("load balancer %s: %s thread failed", self.name, role)
            finally:
                with self._lock:
                    self._threads.discard(thread)

        thread = threading.Thread(target=run, name=f"greenlight-lb:{self.name}:{role}", daemon=True)
        with self._lock:
            if self._closed:
                return None
            self._threads.add(thread)
        thread.start()
        return thread

    def close(self) -> None:
        """Stops new threads and sockets and shuts down every tracked socket (idempotent)."""
        with self._lock:
            self._closed = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def join(self, timeout: float) -> list[str]:
        """Joins the tracked threads within `timeout` seconds; returns the names of those still alive."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                threads = [t for t in self._threads if t is not threading.current_thread()]
            alive = [t for t in threads if t.is_alive()]
            if not alive:
                return []
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return [t.name for t in alive]
            # Sockets opened just before close() may have slipped past it: cut them again.
            self.close()
            alive[0].join(min(remaining, 0.1))


def _shutdown(sock: socket.socket) -> None:
    # Already closed or never connected: nothing to cut.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
