"""A listener of the twin's load balancer: an HTTP server on 127.0.0.1 that forwards like ALB, or a TCP one like NLB.

HTTP (ALB): each request goes to a target group chosen by the listener's weights, then to the group's next
target. The target's status, headers and body come back as they are (the body streamed); when no
usable answer comes, the client gets ALB's own small HTML page: 503 with no registered target, 502
for a refused connection or a malformed answer, 504 when the target says nothing within the idle
timeout.

TCP (NLB): each connection goes to a target group chosen by the weights, then to the group's next target,
and the bytes flow both ways as they are until either side closes or the connection is idle for the idle
timeout; with no target, or a target that refuses, the client's connection is closed.
"""

from __future__ import annotations

import http.client
import logging
import os
import select
import socket
import socketserver
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from greenlight_twin.lb.health import TargetGroup
from greenlight_twin.lb.metrics import RequestMetrics
from greenlight_twin.lb.tracker import Tracker

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
ELB_SERVER = "awselb/2.0"
CONNECT_TIMEOUT = 10.0  # ALB gives up connecting to a target after 10 s (then 504)
MAX_REQUEST_BODY = 64 * 1024 * 1024
_CHUNK = 64 * 1024
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Replaced, not copied: the proxy sets these itself.
_REPLACED = frozenset({"content-length", "expect", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-port"})
# ALB's pages use these phrases (nginx's), not Python's.
_ELB_PHRASES = {
    400: "Bad Request",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
_ELB_PAGE = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n</body>\r\n</html>\r\n"
)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class ListenerServer(ThreadingHTTPServer):
    """One listener: accepts on 127.0.0.1:port, one tracked thread per client connection."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    handler: type[socketserver.BaseRequestHandler]  # set below: _ProxyHandler (HTTP), _TcpHandler (TCP)

    def __init__(
        self,
        *,
        lb_name: str,
        listener: str,
        port: int,
        pick_group: Callable[[Any], TargetGroup],
        metrics: RequestMetrics,
        tracker: Tracker,
        idle_timeout: float,
    ) -> None:
        self.lb_name = lb_name
        self.listener = listener
        self.pick_group = pick_group
        self.metrics = metrics
        self.tracker = tracker
        self.idle_timeout = idle_timeout
        super().__init__((HOST, port), self.handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup the twin does not need.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.tracker.add_socket(request):
            self.shutdown_request(request)
            return
        started = self.tracker.start_thread(f"{self.listener}:conn", self._serve, request, client_address)
        if started is None:
            self.tracker.discard_socket(request)
            self.shutdown_request(request)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except OSError:
            pass  # the client went away, or stop() cut the connection
        finally:
            self.tracker.discard_socket(request)
            self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("listener %s: error serving %s", self.listener, client_address, exc_info=True)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive with clients, as ALB does
    # Headers and body go out as separate writes: with Nagle on, the second waits for a delayed ACK.
    disable_nagle_algorithm = True
    server_version = ELB_SERVER
    sys_version = ""
    server: ListenerServer

    def setup(self) -> None:
        super().setup()
        # The idle timeout also closes a client's keep-alive connection that stays quiet.
        self.connection.settimeout(self.server.idle_timeout)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("listener %s: " + format, self.server.listener, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Requests http.server rejects itself (malformed, unknown method) are the load balancer's 4XX.
        self.server.metrics.record_lb_only(code)
        self.close_connection = True
        self._send_elb_page(code)

    def _forward(self) -> None:
        server = self.server
        try:
            body = self._read_body()
        except _BadRequest as exc:
            logger.debug("listener %s: %s", server.listener, exc)
            self.send_error(exc.status)
            return
        group = server.pick_group(self.headers)
        target = group.acquire()
        if target is None:
            server.metrics.record(group.name, target_chosen=False, elb_status=503)
            self._send_elb_page(503)
            return
        try:
            self._relay(group, target, body)
        finally:
            group.release(target)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _forward

    # --- request ---------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError as exc:
            raise _BadRequest(400, f"bad Content-Length {length!r}") from exc
        if size < 0:
            raise _BadRequest(400, f"bad Content-Length {length!r}")
        if size > MAX_REQUEST_BODY:
            raise _BadRequest(413, f"request body of {size} bytes is over {MAX_REQUEST_BODY}")
        body = self.rfile.read(size)
        if len(body) != size:
            raise _BadRequest(400, f"request body ended after {len(body)} of {size} bytes")
        return body

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1026)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise _BadRequest(400, f"bad chunk size line {line[:40]!r}") from exc
            if size == 0:
                while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass  # trailers: not forwarded
                return b"".join(parts)
            total += size
            if total > MAX_REQUEST_BODY:
                raise _BadRequest(413, f"chunked request body is over {MAX_REQUEST_BODY} bytes")
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise _BadRequest(400, "chunked request body ended early")
            parts.append(chunk)
            self.rfile.readline(3)

    def _upstream_headers(self, body: bytes) -> list[tuple[str, str]]:
        listed = {t.strip().lower() for t in self.headers.get("Connection", "").split(",") if t.strip()}
        headers = [
            (name, value)
            for name, value in self.headers.items()
            if name.lower() not in _HOP_BY_HOP and name.lower() not in _REPLACED and name.lower() not in listed
        ]
        if self.headers.get("Host") is None:  # an HTTP/1.0 client: name what it addressed
            headers.append(("Host", f"{HOST}:{self.server.port}"))
        forwarded_for = [v.strip() for v in self.headers.get_all("X-Forwarded-For", []) if v.strip()]
        headers.append(("X-Forwarded-For", ", ".join([*forwarded_for, self.client_address[0]])))
        headers.append(("X-Forwarded-Proto", "http"))
        headers.append(("X-Forwarded-Port", str(self.server.port)))
        if self.headers.get("X-Amzn-Trace-Id") is None:
            headers.append(("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}"))
        if body or "Content-Length" in self.headers or "Transfer-Encoding" in self.headers:
            headers.append(("Content-Length", str(len(body))))
        return headers

    # --- relay -----------------------------------------------------------------------------------

    def _relay(self, group: TargetGroup, target: tuple[str, int], body: bytes) -> None:
        server = self.server
        conn = http.client.HTTPConnection(target[0], target[1], timeout=min(CONNECT_TIMEOUT, server.idle_timeout))
        sock: socket.socket | None = None
        try:
            started = time.perf_counter()
            try:
                conn.connect()
                sock = conn.sock
                if sock is None or not server.tracker.add_socket(sock):
                    raise ConnectionAbortedError("load balancer is stopping")
                sock.settimeout(server.idle_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self._upstream_headers(body):
                    conn.putheader(name, value)
                conn.endheaders(body or None)
                response = conn.getresponse()
            except TimeoutError:
                self._target_failed(group, 504, target, "did not answer within the idle timeout")
                return
            except (OSError, http.client.HTTPException) as exc:
                self._target_failed(group, 502, target, f"{type(exc).__name__}: {exc}")
                return
            elapsed = time.perf_counter() - started
            server.metrics.record(group.name, target_chosen=True, target_status=response.status, response_time=elapsed)
            self._send_response(response)
        finally:
            server.tracker.discard_socket(sock)
            conn.close()

    def _target_failed(self, group: TargetGroup, status: int, target: tuple[str, int], why: str) -> None:
        logger.debug("listener %s: target %s:%s %s -> %s", self.server.listener, *target, why, status)
        self.server.metrics.record(group.name, target_chosen=True, elb_status=status)
        self._send_elb_page(status)

    def _send_response(self, response: http.client.HTTPResponse) -> None:
        status = response.status
        listed = {t.strip().lower() for t in (response.getheader("Connection") or "").split(",") if t.strip()}
        self.send_response_only(status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP and name.lower() not in listed:
                self.send_header(name, value)
        no_body = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        if no_body:
            self.end_headers()
            return
        if response.length is not None:  # the target sent Content-Length, passed on as it is
            self.end_headers()
            self._copy(response, chunked=False)
        elif self.request_version == "HTTP/1.1":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._copy(response, chunked=True)
        else:  # an HTTP/1.0 client: the body ends when the connection closes
            self.close_connection = True
            self.end_headers()
            self._copy(response, chunked=False)

    def _copy(self, response: http.client.HTTPResponse, *, chunked: bool) -> None:
        try:
            while True:
                data = response.read1(_CHUNK)
                if not data:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (OSError, http.client.HTTPException) as exc:
            # Headers are gone already: all the client can learn is a cut connection, as from ALB.
            logger.debug("listener %s: body relay stopped: %s", self.server.listener, exc)
            self.close_connection = True

    def _send_elb_page(self, code: int) -> None:
        phrase = _ELB_PHRASES.get(code) or _phrase(code)
        page = _ELB_PAGE.format(code=code, phrase=phrase).encode()
        try:
            self.send_response_only(code, phrase)
            self.send_header("Server", ELB_SERVER)
            self.send_header("Date", self.date_time_string())
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(page)
        except OSError:
            self.close_connection = True


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


class _TcpHandler(socketserver.BaseRequestHandler):
    """One client connection of a TCP listener, relayed to one target for its whole life."""

    server: TcpListenerServer

    def handle(self) -> None:
        server = self.server
        group = server.pick_group(None)  # layer 4: no headers to route by
        target = group.acquire()
        if target is None:
            return  # no registered target: the connection closes
        upstream: socket.socket | None = None
        try:
            try:
                upstream = socket.create_connection(target, timeout=min(CONNECT_TIMEOUT, server.idle_timeout))
            except OSError as exc:
                logger.debug("listener %s: target %s:%s refused: %s", server.listener, *target, exc)
                return
            if not server.tracker.add_socket(upstream):
                return
            self._relay(self.request, upstream, server.idle_timeout)
        finally:
            server.tracker.discard_socket(upstream)
            if upstream is not None:
                upstream.close()
            group.release(target)

    @staticmethod
    def _relay(client: socket.socket, upstream: socket.socket, idle_timeout: float) -> None:
        peers = {client: upstream, upstream: client}
        for sock in peers:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                ready, _, _ = select.select(list(peers), [], [], idle_timeout)
            except (OSError, ValueError):  # a socket closed by stop()
                return
            if not ready:
                return  # idle for the idle timeout
            for sock in ready:
                try:
                    data = sock.recv(_CHUNK)
                    if not data:
                        return  # one side closed: so does the relay
                    peers[sock].sendall(data)
                except OSError:
                    return


class TcpListenerServer(ListenerServer):
    """One TCP listener (NLB): accepts on 127.0.0.1:port and relays each connection to a target."""

    handler = _TcpHandler


ListenerServer.handler = _ProxyHandler
