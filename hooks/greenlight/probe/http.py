"""The HTTP client of every probe: bounded by wall clock, capped in bytes, strict about where it goes.

`requests` bounds each socket read, not the whole exchange: a server that drips one byte a second
would hold a probe forever. Every socket a probe opens is registered, and a watchdog shuts them
down when the wall-clock timeout passes, so the probe ends with a timeout error on time.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json as jsonlib
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from greenlight import USER_AGENT
from greenlight.checks.base import TlsSettings

_CHUNK = 16 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_METADATA_V6 = ipaddress.ip_address("fd00:ec2::254")


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
    secret_headers: frozenset[str] = frozenset()  # lower-case names never sent to another host


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


# --- sockets a probe opens are tracked so the watchdog can cut them --------------------------------

_local = threading.local()


class _Registry:
    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.expired = False
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

    @staticmethod
    def _cut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _track(sock: socket.socket) -> None:
    registry: _Registry | None = getattr(_local, "registry", None)
    if registry is not None:
        registry.add(sock)


class _TrackedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _track(sock)
        return sock


class _TrackedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _track(sock)
        return sock


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


def forbidden_address(host: str) -> str | None:
    """Why `host` must never be probed (link-local or instance metadata), or None."""
    host = host.strip("[]")
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return None  # resolution errors surface from the request itself
        addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    for addr in addresses:
        if addr.is_link_local or addr == _METADATA_V6:
            return f"{host} resolves to {addr}, a link-local or instance-metadata address"
    return None


def validate_url(url: str) -> tuple[str, str]:
    """(scheme, host) of a probe URL, or ProbeError('invalid') naming what is wrong."""
    if any(c in url for c in "\r\n\t"):
        raise ProbeError("invalid", f"URL contains a control character: {url!r}")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise ProbeError("invalid", f"malformed URL {url!r}: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise ProbeError("invalid", f"only http and https URLs may be probed, got {parts.scheme or 'no'} scheme")
    if parts.username or parts.password:
        raise ProbeError("invalid", "credentials in URLs are not allowed; use a header with a secret reference")
    if not parts.hostname:
        raise ProbeError("invalid", f"URL {url!r} has no host")
    return parts.scheme, parts.hostname


# --- the request ------------------------------------------------------------------------------------


def _classify(exc: Exception, url: str, registry: _Registry, timeout: float) -> ProbeError:
    text = str(exc)
    host = urlsplit(url).hostname or url
    if registry.expired or isinstance(exc, requests.Timeout):
        return ProbeError(
            "timeout",
            f"no complete answer from {host} within {timeout:g}s (wall clock)",
            "security groups, network ACLs, the listener port, or a VPC function without a route",
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return ProbeError("tls", f"TLS handshake with {host} failed: {text}", "certificate name, CA or expiry")
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo failed" in text:
        return ProbeError("dns", f"cannot resolve {host}", "the load balancer's DNS name, and DNS in the VPC")
    if "Connection refused" in text or "Errno 111" in text:
        return ProbeError(
            "refused",
            f"connection refused by {host}:{urlsplit(url).port or ''}".rstrip(":"),
            "the listener port and the security group of the load balancer",
        )
    return ProbeError("connection", f"connection to {host} failed: {type(exc).__name__}: {text[:300]}")


def _send_once(req: Request, url: str, headers: Mapping[str, str], deadline: float) -> Response:
    registry = _Registry()
    remaining = max(deadline - time.monotonic(), 0.001)
    watchdog = threading.Timer(remaining, registry.expire)
    watchdog.daemon = True
    _local.registry = registry
    started = time.monotonic()
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc credentials from the environment
    session.mount("http://", _ProbeAdapter(req.tls))
    session.mount("https://", _ProbeAdapter(req.tls))
    verify: bool | str = False if req.tls.insecure else (req.tls.ca_bundle or True)
    watchdog.start()
    try:
        with session.request(
            req.method,
            url,
            headers=dict(headers),
            data=req.body,
            timeout=(remaining, remaining),
            allow_redirects=False,
            stream=True,
            verify=verify,
        ) as resp:
            body = bytearray()
            truncated = False
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
                url=url,
            )
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _classify(exc, url, registry, req.timeout) from exc
    finally:
        watchdog.cancel()
        _local.registry = None
        session.close()


def fetch(req: Request) -> Response:
    """Send `req`; raise ProbeError if no answer came within `req.timeout` seconds of wall clock."""
    deadline = time.monotonic() + req.timeout
    started = time.monotonic()
    url = req.url
    headers = {"User-Agent": USER_AGENT, **req.headers}
    if req.tls.server_name and not any(k.lower() == "host" for k in headers):
        headers["Host"] = req.tls.server_name
    hops: list[str] = []
    first_host = None
    while True:
        _, host = validate_url(url)
        first_host = first_host or host
        if not host_allowed(host, req.allowed_hosts):
            raise ProbeError("blocked", f"host {host} is not allowed", "add it to target.allow_hosts in the spec")
        if hops:
            why = forbidden_address(host)
            if why:
                raise ProbeError("blocked", f"redirect to {url} refused: {why}")
        resp = _send_once(req, url, headers, deadline)
        if resp.status not in _REDIRECTS or not req.follow_redirects:
            break
        location = resp.headers.get("location")
        if not location:
            break
        if len(hops) >= req.follow_redirects:
            raise ProbeError("redirect", f"more than {req.follow_redirects} redirect(s), last to {location}")
        hops.append(url)
        next_url = urljoin(url, location)
        next_host = urlsplit(next_url).hostname or ""
        if next_host.lower() != host.lower():
            # Never carry secrets to another host.
            headers = {k: v for k, v in headers.items() if k.lower() not in req.secret_headers and k.lower() != "host"}
        url = next_url
    return Response(
        status=resp.status,
        headers=resp.headers,
        body=resp.body,
        truncated=resp.truncated,
        elapsed_ms=(time.monotonic() - started) * 1000,
        url=url,
        redirects=tuple(hops),
    )
