"""Test harness for the twin's load balancer: backend HTTP servers on 127.0.0.1 and small helpers."""

from __future__ import annotations

import http.client
import json
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from greenlight_twin.lb import HealthCheck, LoadBalancer

HANG_LIMIT = 20.0  # a hanging backend answers after this at the latest, so no test can wait forever

# Health checks fast enough for tests: healthy after two passes, ~0.2 s after start.
FAST_CHECK = HealthCheck(interval=0.1, timeout=0.3, healthy_threshold=2, unhealthy_threshold=2)


# --- backends ------------------------------------------------------------------------------------


class _BackendHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _BackendServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        backend = self.server.backend
        is_health = self.path.split("?", 1)[0] == backend.health_path
        backend.note(is_health)
        mode = backend.health_mode if is_health else backend.mode
        if mode == "hang":
            backend.release.wait(HANG_LIMIT)
            self.close_connection = True
            return
        if mode == "garbage":
            self.wfile.write(b"THIS IS NOT HTTP\r\n\r\n")
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if is_health:
            status = int(mode) if mode.isdigit() else 200
            self._reply(status, b"ok", "text/plain")
            return
        if mode == "big":
            self._reply(200, backend.big_body, "application/octet-stream")
            return
        if mode == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first,", b"second,", b"third"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        status = int(mode) if mode.isdigit() else 200
        echo = {
            "backend": backend.name,
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("latin-1"),
        }
        self._reply(status, json.dumps(echo).encode(), "application/json", extra=backend.extra_headers)

    def _reply(self, status: int, body: bytes, content_type: str, extra: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra or ():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


class _BackendServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        super().__init__(("127.0.0.1", 0), _BackendHandler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients cut by the load balancer's timeouts are expected here


class Backend:
    """A real HTTP server on 127.0.0.1 standing in for one task.

    `mode` (traffic) and `health_mode` (its health path) are each "ok", a status code such as
    "500", "hang" (answer nothing until closed), or "garbage" (not HTTP); `mode` may also be
    "big" (a few MB body) or "chunked" (a chunked body).
    """

    def __init__(self, name: str, mode: str = "ok", health_mode: str = "ok", health_path: str = "/health") -> None:
        self.name = name
        self.mode = mode
        self.health_mode = health_mode
        self.health_path = health_path
        self.extra_headers: list[tuple[str, str]] = []
        self.big_body = b""
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.health_checks = 0
        self.requests = 0
        self._server = _BackendServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def target(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def note(self, is_health: bool) -> None:
        with self._lock:
            if is_health:
                self.health_checks += 1
            else:
                self.requests += 1

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


# --- helpers -------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    path: str = "/",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request on a fresh connection to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        conn.close()


def wait_for(predicate: Callable[[], Any], what: str, limit: float = 10.0) -> Any:
    """Polls until predicate() is truthy and returns it; fails naming `what` after `limit` seconds."""
    deadline = time.monotonic() + limit
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {limit} s (last: {result!r})")
        time.sleep(0.02)


def states(lb: LoadBalancer, group: str) -> dict[int, str]:
    """port -> state of each registered target in the group."""
    return {t.port: t.state for t in lb.health_snapshot(group)}


def wait_states(lb: LoadBalancer, group: str, expected: dict[int, str], limit: float = 10.0) -> None:
    wait_for(lambda: states(lb, group) == expected, f"{group} states {expected}", limit)
