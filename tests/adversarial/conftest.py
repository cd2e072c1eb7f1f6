"""Fixtures of the adversarial suite: a loopback guard, the twin's AWS, full output capture.

The guard is installed for each module of this folder (from its first test to its last, not per test, and
gone before the rest of the session, some of which reach a Docker bridge; pytest's package scope would last
the whole session here, as this folder is no package): socket.socket.connect,
connect_ex and socket.create_connection refuse any destination outside 127.0.0.0/8 and ::1. A probe
catches connection errors (that is its job), so a refused connection would not fail a test by itself:
each test also fails if anything was refused while it ran. Docker bridge addresses are not used here.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for _path in (TESTS / "functional" / "reliability", TESTS):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from hook_harness import Twin, hanging_kind, twin, twin_server  # noqa: E402, F401  (fixtures for this folder)

from greenlight import secrets  # noqa: E402
from greenlight.probe import redact  # noqa: E402

REFUSED: list[str] = []


class OutsideLoopback(ConnectionRefusedError):
    """A connection the adversarial suite refused: its destination is not a loopback address."""


def _destination_ok(address: Any) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX and the like
    host = str(address[0]).split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: these tests connect to addresses only, so a name is a way around the guard
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _refuse(address: Any) -> None:
    REFUSED.append(str(address))
    raise OutsideLoopback(f"the adversarial suite connects only to loopback addresses, not {address}")


@pytest.fixture(scope="module", autouse=True)
def loopback_only_session() -> Iterator[None]:
    """Refuse, for every test of this folder, any TCP connection whose destination is not loopback."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create = socket.create_connection

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _destination_ok(address):
            _refuse(address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _destination_ok(address):
            _refuse(address)
        return real_connect_ex(sock, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        host = str(address[0]) if isinstance(address, tuple) and address else ""
        if host != "localhost" and not _destination_ok(address):
            _refuse(address)
        return real_create(address, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.create_connection = create_connection  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.create_connection = real_create


@pytest.fixture(autouse=True)
def _no_connection_left_loopback() -> Iterator[None]:
    """Fail the test if anything it did tried to leave 127.0.0.0/8 or ::1; start from no remembered secret."""
    REFUSED.clear()
    secrets.clear_cache()
    redact.forget_all()
    yield
    refused, REFUSED[:] = list(REFUSED), []
    assert not refused, f"a connection outside loopback was attempted: {refused}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of every logger at DEBUG (botocore and urllib3 log request and answer details there)."""
    caplog.set_level(logging.DEBUG)
    return caplog
