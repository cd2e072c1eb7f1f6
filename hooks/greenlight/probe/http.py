"""The HTTP client of every probe: bounded by wall clock, capped in bytes, strict about where it goes.

`requests` bounds each socket read, not the whole exchange: a server that drips one byte a second
would hold a probe forever. Every socket a probe opens is registered, and a watchdog shuts them
down when the wall-clock timeout passes, so the probe ends with a timeout error on time.

Where a probe may go is checked twice: the URL's host against the allowlist before anything is
sent, and every address a connection is about to use (and the peer it got) against link-local and
instance-metadata ranges, so neither a redirect nor a DNS answer can point a probe at them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json as jsonlib
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from greenlight import USER_AGENT
from greenlight.engine.check import TlsSettings
from greenlight.probe import redact

_CHUNK = 16 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_METADATA = frozenset(
    {
        ipaddress.ip_address("fd00:ec2::254"),  # EC2 instance metadata over IPv6
        ipaddress.ip_address("fd00:ec2::23"),  # Amazon Time Sync / DNS over IPv6 on Nitro
    }
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
# Headers that describe a request body: dropped with the body when a redirect turns the request into a GET.
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding", "transfer-encoding"})


class ProbeError(Exception):
    """A request that got no usable answer; `kind` says why, `hint` what to look at."""

    def __init__(self, kind: str, message: str, hint: str | None = None) -> None:
        self.kind = kind
        self.hint = hint
        super().__init__(message + (f" (hint: {hint})" if hint else ""))


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    timeout: float = 5.0
    max_body_bytes: int = 1024 * 1024
    follow_redirects: int = 0  # how many redirects may be followed; 0: none
    tls: TlsSettings = TlsSettings()
    allowed_hosts: frozenset[str] | None = None  # None: any host (callers pass the spec's list)
    secret_headers: frozenset[str] = frozenset()  # lower-case names never sent to another origin


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    truncated: bool
    elapsed_ms: float
    url: str
    redirects: tuple[str, ...] = ()

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.body)


# --- where probes may go ----------------------------------------------------------------------------


def host_allowed(host: str, allowed: frozenset[str] | None) -> bool:
    if allowed is None:
        return True
    host = host.lower().strip("[]")
    for pattern in allowed:
        p = pattern.lower().strip("[]")
        if host == p or (p.startswith("*.") and host.endswith(p[1:])):
            return True
    return False


def is_special_invalid(host: str) -> bool:
    """True for `invalid` and names under it, which RFC 6761 says resolve to nothing, without asking DNS."""
    name = host.lower().rstrip(".")
    return name == "invalid" or name.endswith(".invalid")


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated
    (::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d, RFC 6052) or 6to4
    (2002:AABB:CCDD::, RFC 3056); None for a native one."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    value = int(addr)
    if value >> 32 == 0 and value > 1:  # ::a.b.c.d, less :: and ::1
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if value >> 32 == 0x0064FF9B << 64:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if value >> 32 == 0xFFFF0000:  # IPv4-translated, ::ffff:0:a.b.c.d (RFC 2765)
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return None


def forbidden_ip(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Never a probe's destination: link-local (169.254.0.0/16, fe80::/10, where instance and task metadata
    live), a metadata address, or the unspecified address (0.0.0.0/8, ::), which Linux takes for this host;
    also in every IPv6 form that carries such an IPv4 address."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.is_unspecified:
            return True
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            addr = embedded
    if isinstance(addr, ipaddress.IPv4Address) and addr in _THIS_NETWORK:
        return True
    return addr.is_link_local or addr in _METADATA


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names if it is an IP literal in any spelling the resolver accepts, else None.

    getaddrinfo() takes IPv4 in inet_aton() form: decimal (2852039166), octal (0251.0376.0251.0376), hex
    (0xa9fea9fe), dotted hex and two- or three-part forms (169.254.43518); `ipaddress` alone knows only
    the dotted quad, so every literal is read by inet_aton() too. A trailing dot and an IPv6 zone
    (`%eth0`) do not change the address.
    """
    text = value.strip("[]").split("%")[0]
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if not text or ":" in text or not all(c.isalnum() or c == "." for c in text) or not text[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def resolve(host: str, port: int | None) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses `host` names, in the resolver's order: the one place a probe asks DNS.

    A probe connects to what this returned and was vetted, never to the name again, so a DNS answer
    that changes between two lookups (rebinding) cannot send it anywhere the vetting did not see.
    """
    literal = parse_ip(host)
    if literal is not None:
        return [literal]
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        addr = parse_ip(str(info[4][0]))
        if addr is not None and addr not in found:
            found.append(addr)
    return found


def forbidden_address(host: str) -> str | None:
    """Why `host` must never be probed (it is or resolves to a link-local or metadata address), or None."""
    host = host.strip("[]")
    literal = parse_ip(host)
    if literal is not None:
        addresses = {literal}
    elif is_special_invalid(host):
        return None  # resolves to nothing; the request reports it
    else:
        try:
            addresses = set(resolve(host, None))
        except OSError:
            return None  # resolution errors surface from the request itself
    for addr in sorted(addresses, key=str):
        if forbidden_ip(addr):
            return f"{host} resolves to {addr}, a link-local or instance-metadata address"
    return None


def validate_url(url: str) -> tuple[str, str]:
    """(scheme, host) of a probe URL, or ProbeError('invalid') naming what is wrong."""
    if any(c in url for c in "\r\n\t\x00"):
        raise ProbeError("invalid", f"URL contains a control character: {redact.url(url)!r}")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise ProbeError("invalid", f"malformed URL {redact.url(url)!r}: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise ProbeError("invalid", f"only http and https URLs may be probed, got {parts.scheme or 'no'} scheme")
    if parts.username is not None or parts.password is not None:
        raise ProbeError("invalid", "credentials in URLs are not allowed; use a header with a secret reference")
    if not parts.hostname:
        raise ProbeError("invalid", f"URL {redact.url(url)!r} has no host")
    return parts.scheme, parts.hostname


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


# --- sockets a probe opens are vetted, and tracked so the watchdog can cut them ---------------------

_local = threading.local()


class _Registry:
    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.expired = False
        self.blocked: str | None = None  # why a connection was refused before or right after connecting
        self.lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.append(sock)
            if self.expired:
                self._cut(sock)

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                self._cut(sock)

    def close(self) -> None:
        """Close the registered duplicates (the connections themselves belong to their sessions)."""
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.close()
            self.sockets.clear()

    @staticmethod
    def _cut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _registry() -> _Registry | None:
    registry: _Registry | None = getattr(_local, "registry", None)
    return registry


def _guarded_new_conn(conn: HTTPConnection, connect: Any) -> socket.socket:
    """Open `conn`'s socket to an address resolved once and vetted, and register it with the watchdog.

    The name is resolved here (`resolve`), every address vetted, and the socket opened to one of those
    addresses: urllib3 is handed the IP, so it never asks DNS again, while the Host header, TLS SNI and
    certificate verification keep the name (`conn.host`).
    """
    host = conn._dns_host
    registry = _registry()
    if is_special_invalid(host):
        # RFC 6761 section 6.4: answer "no such name" locally instead of asking a resolver.
        raise NameResolutionError(conn.host, conn, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    try:
        addresses = resolve(host, conn.port)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    if not addresses:
        raise NameResolutionError(conn.host, conn, socket.gaierror(socket.EAI_NONAME, "no address"))
    for addr in addresses:
        if forbidden_ip(addr):
            why = f"{host} resolves to {addr}, a link-local or instance-metadata address"
            if registry is not None:
                registry.blocked = why
            raise NewConnectionError(conn, f"refused to connect: {why}")
    failure: Exception | None = None
    for addr in addresses:
        conn._dns_host = str(addr)
        try:
            sock: socket.socket = connect()
            break
        except (NewConnectionError, ConnectTimeoutError) as exc:
            failure = exc  # the next address, as socket.create_connection would
        finally:
            conn._dns_host = host
    else:
        assert failure is not None
        raise failure
    # Belt and braces: the peer is the vetted address, or the connection is dropped.
    peer = parse_ip(str(sock.getpeername()[0]))
    if peer is not None and forbidden_ip(peer):
        sock.close()
        why = f"{host} connected to {peer}, a link-local or instance-metadata address"
        if registry is not None:
            registry.blocked = why
        raise NewConnectionError(conn, f"refused to connect: {why}")
    if registry is not None:
        # A duplicate of the descriptor: for https urllib3 wraps this socket in TLS, which detaches it (its fd
        # becomes -1), so shutting down the original would no longer cut anything. shutdown() on the duplicate
        # ends the connection itself, a TLS handshake or a dripped record included.
        registry.add(sock.dup())
    return sock


class _TrackedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_new_conn(self, super()._new_conn)


class _TrackedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_new_conn(self, super()._new_conn)


class _TrackedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


class _ProbeAdapter(HTTPAdapter):
    def __init__(self, tls: TlsSettings) -> None:
        self._tls = tls
        super().__init__(max_retries=0, pool_connections=1, pool_maxsize=1)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        if self._tls.server_name:
            pool_kwargs["server_hostname"] = self._tls.server_name
            pool_kwargs["assert_hostname"] = self._tls.server_name
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}


# --- the request ------------------------------------------------------------------------------------


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and everything that led to it: causes, contexts and urllib3's wrapped `reason`s."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        for nxt in (e.__cause__, e.__context__, getattr(e, "reason", None), *e.args):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def _classify(exc: Exception, url: str, registry: _Registry, timeout: float, secrets: list[str]) -> ProbeError:
    host = urlsplit(url).hostname or redact.url(url)
    chain = list(_causes(exc))
    if registry.blocked:
        return ProbeError("blocked", f"probe to {host} refused: {registry.blocked}")
    if registry.expired or isinstance(exc, requests.Timeout):
        if registry.sockets and not isinstance(exc, requests.exceptions.ConnectTimeout):
            return ProbeError(
                "timeout",
                f"connected to {host}, but the answer did not complete within {timeout:.3g}s (wall clock)",
                "a slow or hung server: green's logs, its dependencies, or raise the check's timeout",
            )
        return ProbeError(
            "timeout",
            f"could not connect to {host} within {timeout:.3g}s (wall clock)",
            "security groups, network ACLs, the listener port, or a VPC function without a route",
        )
    # Secret header values can appear in library messages (requests quotes a header it rejects): mask
    # them before anything is cut short, so no half of a secret survives truncation.
    text = redact.text(str(exc), secrets)
    if isinstance(exc, requests.exceptions.SSLError):
        return ProbeError("tls", f"TLS handshake with {host} failed: {text[:500]}", "certificate name, CA or expiry")
    if any(isinstance(e, socket.gaierror | NameResolutionError) for e in chain):
        return ProbeError("dns", f"cannot resolve {host}", "the load balancer's DNS name, and DNS in the VPC")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "Connection refused" in text:
        port = urlsplit(url).port
        return ProbeError(
            "refused",
            f"connection refused by {host}" + (f":{port}" if port else ""),
            "the listener port and the security group of the load balancer",
        )
    return ProbeError("connection", f"connection to {host} failed: {type(exc).__name__}: {text[:300]}")


@dataclass(frozen=True)
class _Hop:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    tls: TlsSettings


def _send_once(req: Request, hop: _Hop, deadline: float, secrets: list[str]) -> Response:
    registry = _Registry()
    remaining = max(deadline - time.monotonic(), 0.001)
    watchdog = threading.Timer(remaining, registry.expire)
    watchdog.daemon = True
    _local.registry = registry
    started = time.monotonic()
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc credentials from the environment
    session.mount("http://", _ProbeAdapter(hop.tls))
    session.mount("https://", _ProbeAdapter(hop.tls))
    verify: bool | str = False if hop.tls.insecure else (hop.tls.ca_bundle or True)
    watchdog.start()
    try:
        with session.request(
            hop.method,
            hop.url,
            headers=dict(hop.headers),
            data=hop.body,
            timeout=(remaining, remaining),
            allow_redirects=False,
            stream=True,
            verify=verify,
        ) as resp:
            body = bytearray()
            truncated = False
            # Decoded chunks are bounded by urllib3 (it caps how much one compressed read may inflate),
            # and reading stops at the cap: a huge or endless body costs at most the cap plus one chunk.
            for chunk in resp.raw.stream(_CHUNK, decode_content=True):
                body.extend(chunk)
                if len(body) > req.max_body_bytes:
                    del body[req.max_body_bytes :]
                    truncated = True
                    break
                if registry.expired:
                    raise TimeoutError("wall clock")
            if registry.expired:
                raise TimeoutError("wall clock")
            return Response(
                status=resp.status_code,
                headers={k.lower(): v for k, v in resp.headers.items()},
                body=bytes(body),
                truncated=truncated,
                elapsed_ms=(time.monotonic() - started) * 1000,
                url=hop.url,
            )
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        # ValueError: requests rejects some header values and URLs with it (InvalidHeader, InvalidURL).
        raise _classify(exc, hop.url, registry, req.timeout, secrets) from None
    finally:
        watchdog.cancel()
        _local.registry = None
        session.close()
        registry.close()


def _next_hop(hop: _Hop, status: int, location: str, req: Request) -> _Hop:
    """The request a redirect asks for: secrets stay with their origin, a 303 (or a POST's 301/302) becomes a GET."""
    next_url = urljoin(hop.url, location)
    headers = dict(hop.headers)
    tls = hop.tls
    if _origin(next_url) != _origin(hop.url):
        # Never carry secrets to another origin: another host, or the same host over plain http or on another port.
        headers = {
            k: v for k, v in headers.items() if k.lower() not in req.secret_headers and not redact.is_secret_header(k)
        }
    if _origin(next_url)[1] != _origin(hop.url)[1]:
        # The service name given for the load balancer is not the name of some other host.
        headers = {k: v for k, v in headers.items() if k.lower() != "host"}
        tls = TlsSettings(ca_bundle=tls.ca_bundle, insecure=tls.insecure)
    method, body = hop.method, hop.body
    if status == 303 or (status in (301, 302) and method == "POST"):
        if method != "HEAD":
            method = "GET"
        body = None
        headers = {k: v for k, v in headers.items() if k.lower() not in _BODY_HEADERS}
    return _Hop(method, next_url, headers, body, tls)


def fetch(req: Request) -> Response:
    """Send `req`; raise ProbeError if no answer came within `req.timeout` seconds of wall clock."""
    redact.install_log_redaction()  # urllib3 logs request lines (query strings included) at DEBUG
    deadline = time.monotonic() + req.timeout
    started = time.monotonic()
    headers = {"User-Agent": USER_AGENT, **req.headers}
    if req.tls.server_name and not any(k.lower() == "host" for k in headers):
        headers["Host"] = req.tls.server_name
    secrets = [v for k, v in req.headers.items() if k.lower() in req.secret_headers or redact.is_secret_header(k)]
    hop = _Hop(req.method, req.url, headers, req.body, req.tls)
    hops: list[str] = []
    while True:
        _, host = validate_url(hop.url)
        if not host_allowed(host, req.allowed_hosts):
            where = f"redirect to {redact.url(hop.url)}" if hops else f"host {host}"
            raise ProbeError("blocked", f"{where} refused: host {host} is not allowed", "add it to target.allow_hosts")
        if hops:
            why = forbidden_address(host)
            if why:
                raise ProbeError("blocked", f"redirect to {redact.url(hop.url)} refused: {why}")
        resp = _send_once(req, hop, deadline, secrets)
        if resp.status not in _REDIRECTS or not req.follow_redirects:
            break
        location = resp.headers.get("location")
        if not location:
            break
        if len(hops) >= req.follow_redirects:
            raise ProbeError(
                "redirect", f"more than {req.follow_redirects} redirect(s), last to {redact.url(location)}"
            )
        hops.append(hop.url)
        try:
            hop = _next_hop(hop, resp.status, location, req)
        except ValueError as exc:  # urlsplit: a port out of range, a malformed IPv6 literal
            raise ProbeError("redirect", f"redirect to {redact.url(location)} refused: {exc}") from None
    return Response(
        status=resp.status,
        headers=resp.headers,
        body=resp.body,
        truncated=resp.truncated,
        elapsed_ms=(time.monotonic() - started) * 1000,
        url=hop.url,
        redirects=tuple(hops),
    )
