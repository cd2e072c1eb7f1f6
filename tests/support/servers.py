"""Real, misbehaving HTTP servers on 127.0.0.1 for tests; each one bounded in time and stopped on exit.

Everything here is a context manager (`tests/functional/conftest.py` also offers them as fixtures):

- `HttpServer(reply, routes=..., host=...)`: a threaded HTTP/1.1 server. Each answer is a `Reply`
  (status, headers, a body or JSON, a delay before answering, headers and/or body dripped a byte at
  a time, a huge chunked body) or a `Responder`, a function of the recorded request, such as
  `sequence(...)` or `first_n(...)`. Every request is recorded in `server.requests`, so tests can
  assert what a probe sent (User-Agent, secret headers) and how many requests arrived.
- `SilentServer()`: accepts TCP connections and never sends a byte.
- `RefusingPort()`: a port on which every connection is refused.
- `redirect(location)`, `METADATA_URL` (the instance metadata address, only ever used as a redirect
  target that must be refused) and `OTHER_HOST` (127.0.0.2: a second loopback address that a probe
  must treat as another host).
- `loopback_guard()`: while active, an in-process TCP connection to any address outside 127.0.0.0/8
  or ::1 raises `OutsideLoopbackError`, so a test can never reach the network by mistake.

Example::

    with HttpServer(routes={"/health": first_n(2, Reply(500), then=Reply(json={"status": "ok"}))}) as srv:
        ...probe srv.url_for("/health")...
        assert srv.requests[0].header("user-agent").startswith("greenlight/")
"""

from __future__ import annotations

import contextlib
import http
import ipaddress
import json as jsonlib
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"
OTHER_HOST = "127.0.0.2"
METADATA_URL = "http://169.254.169.254/latest/meta-data/"
MB = 1024 * 1024

# No server thread waits longer than this in one go, so a forgotten server cannot hold a test run.
MAX_WAIT = 60.0
_STREAM_CHUNK = 64 * 1024
_UNSET: Any = object()


def _require_loopback(host: str) -> None:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"test servers bind only to loopback addresses, not {host}")


@dataclass(frozen=True)
class Recorded:
    """One request as a server received it."""

    method: str
    path: str  # with the query string
    headers: Mapping[str, str]  # lower-case names; the last of repeated headers wins
    body: bytes
    server: str  # "host:port" of the server that received it
    at: float  # time.monotonic() when it arrived

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Reply:
    """One answer. Bytes go out raw, so the answer can be as broken as a test needs.

    - `json`: serialised as the body, with `Content-Type: application/json`.
    - `headers` override the defaults (`Connection: close`, `Content-Length`/`Transfer-Encoding`).
    - `delay`: seconds before the first byte of the status line.
    - `drip_headers` / `drip_body`: seconds between single bytes of the head / the body.
    - `stream_bytes`: send this many body bytes with chunked encoding (`body` is ignored), stopping as
      soon as the client goes away; `HttpServer.bytes_streamed` counts what was written.
    """

    status: int = 200
    body: bytes | str = b""
    json: Any = _UNSET
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip_headers: float = 0.0
    drip_body: float = 0.0
    stream_bytes: int = 0

    def payload(self) -> bytes:
        if self.json is not _UNSET:
            return jsonlib.dumps(self.json).encode()
        return self.body.encode() if isinstance(self.body, str) else self.body

    def head(self) -> bytes:
        try:
            phrase = http.HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        merged: dict[str, tuple[str, str]] = {"connection": ("Connection", "close")}
        if self.json is not _UNSET:
            merged["content-type"] = ("Content-Type", "application/json")
        if self.stream_bytes:
            merged["transfer-encoding"] = ("Transfer-Encoding", "chunked")
        else:
            merged["content-length"] = ("Content-Length", str(len(self.payload())))
        for name, value in self.headers.items():
            merged[name.lower()] = (name, value)
        lines = [f"HTTP/1.1 {self.status} {phrase}", *(f"{n}: {v}" for n, v in merged.values())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


Responder = Callable[[Recorded], Reply]


def sequence(*replies: Reply, then: Reply | None = None) -> Responder:
    """The n-th request that reaches it gets the n-th reply; later ones get `then` (default: the last)."""
    if not replies:
        raise ValueError("sequence() needs at least one reply")
    lock = threading.Lock()
    seen = [0]

    def respond(_request: Recorded) -> Reply:
        with lock:
            index = seen[0]
            seen[0] += 1
        if index < len(replies):
            return replies[index]
        return then if then is not None else replies[-1]

    return respond


def first_n(n: int, first: Reply, then: Reply) -> Responder:
    """`first` for the first `n` requests, `then` for every later one (e.g. the first 2 answer 500)."""
    return sequence(*([first] * n), then=then) if n else (lambda _request: then)


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers={"Location": location})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    owner: HttpServer

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the FQDN of the address, which can wait on DNS for 127.0.0.2.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that stalls while sending its request cannot hold the thread

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 10 * MB)) if length else b""
        owner = self.server.owner
        recorded = Recorded(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            server=owner.address,
            at=time.monotonic(),
        )
        reply = owner._record_and_pick(recorded)
        self.close_connection = True
        # The client going away mid-answer is what many tests cause on purpose.
        with contextlib.suppress(OSError):
            owner._send(self.wfile, reply, head_only=self.command == "HEAD")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle


class HttpServer:
    """A threaded HTTP server on a loopback address that answers by path and records every request."""

    def __init__(
        self,
        reply: Reply | Responder | None = None,
        *,
        routes: Mapping[str, Reply | Responder] | None = None,
        host: str = LOOPBACK,
    ) -> None:
        _require_loopback(host)
        self.host = host
        self.default: Reply | Responder = reply if reply is not None else Reply()
        self.routes: dict[str, Reply | Responder] = dict(routes or {})
        self.requests: list[Recorded] = []
        self.bytes_streamed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> HttpServer:
        server = _Server((self.host, 0), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"test-http-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # ends delays, drips and streams in handler threads
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- where it is ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "start() the server first"
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://{self.address}"

    def url_for(self, path: str = "/") -> str:
        return self.url + path

    # --- what it answers and what it saw -------------------------------------------------------
    def set(self, path: str | None, reply: Reply | Responder) -> None:
        """Change the answer for `path` (None: the default answer) while the server runs."""
        with self._lock:
            if path is None:
                self.default = reply
            else:
                self.routes[path] = reply

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def _record_and_pick(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            answer = self.routes.get(recorded.path.split("?", 1)[0], self.default)
        return answer if isinstance(answer, Reply) else answer(recorded)

    # --- sending -------------------------------------------------------------------------------
    def _send(self, out: Any, reply: Reply, *, head_only: bool = False) -> None:
        if reply.delay and self._stop.wait(min(reply.delay, MAX_WAIT)):
            return
        self._write(out, reply.head(), reply.drip_headers)
        if head_only:
            return
        if reply.stream_bytes:
            self._stream(out, reply.stream_bytes)
        else:
            self._write(out, reply.payload(), reply.drip_body)

    def _write(self, out: Any, data: bytes, drip: float) -> None:
        if not drip:
            out.write(data)
            return
        give_up = time.monotonic() + MAX_WAIT
        for i in range(len(data)):
            out.write(data[i : i + 1])
            if self._stop.wait(drip) or time.monotonic() > give_up:
                return

    def _stream(self, out: Any, total: int) -> None:
        block = b"x" * _STREAM_CHUNK
        sent = 0
        while sent < total and not self._stop.is_set():
            n = min(_STREAM_CHUNK, total - sent)
            out.write(b"%x\r\n" % n + block[:n] + b"\r\n")
            sent += n
            with self._lock:
                self.bytes_streamed += n
        out.write(b"0\r\n\r\n")


class SilentServer:
    """Accepts TCP connections on a loopback address and never sends a byte (a black-holed target)."""

    def __init__(self, host: str = LOOPBACK) -> None:
        _require_loopback(host)
        self.host = host
        self.accepted = 0
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SilentServer:
        sock = socket.create_server((self.host, 0), backlog=64)
        sock.settimeout(0.05)
        self._sock = sock
        self._thread = threading.Thread(target=self._accept, name="test-silent", daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            self.accepted += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for conn in [*self._conns, *([self._sock] if self._sock else [])]:
            with contextlib.suppress(OSError):
                conn.close()

    def __enter__(self) -> SilentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._sock is not None, "start() the server first"
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url_for(self, path: str = "/") -> str:
        return self.url + path


class RefusingPort:
    """A loopback port that refuses every connection: bound but never listening, so nothing else takes it."""

    def __init__(self, host: str = LOOPBACK) -> None:
        _require_loopback(host)
        self.host = host
        self._sock: socket.socket | None = None

    def __enter__(self) -> RefusingPort:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((self.host, 0))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sock is not None:
            self._sock.close()

    @property
    def port(self) -> int:
        assert self._sock is not None, "enter the context first"
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url_for(self, path: str = "/") -> str:
        return self.url + path


class OutsideLoopbackError(ConnectionRefusedError):
    """A test tried to open a connection to an address outside the loopback range."""


def _loopback_only(address: Any) -> None:
    if not isinstance(address, tuple) or not address:
        return
    host = str(address[0]).split("%", 1)[0]
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        infos = socket.getaddrinfo(host, None)
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for addr in addresses:
        if not (addr.is_loopback or addr.is_unspecified):
            raise OutsideLoopbackError(f"tests may only connect to loopback addresses, not {host}")


@contextlib.contextmanager
def loopback_guard() -> Iterator[list[str]]:
    """Refuse in-process TCP connections outside 127.0.0.0/8 and ::1; yields the refused addresses."""
    refused: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                _loopback_only(address)
            except OutsideLoopbackError:
                refused.append(str(address))
                raise

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    own = {name: vars(socket.socket).get(name) for name in ("connect", "connect_ex")}
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    try:
        yield refused
    finally:
        for name, original in own.items():
            if original is None:
                delattr(socket.socket, name)
            else:
                setattr(socket.socket, name, original)
