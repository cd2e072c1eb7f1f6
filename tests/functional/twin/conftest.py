"""Fixtures for the twin's load balancer tests: backends, load balancers, a moto server."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from greenlight_twin.lb import HealthCheck, ListenerConfig, LoadBalancer, TargetGroupConfig

# The harness is imported by plain name whatever pytest's import mode.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from lb_harness import FAST_CHECK, Backend  # noqa: E402


@pytest.fixture
def backend() -> Iterator[Callable[..., Backend]]:
    """Factory: backend("blue-1", mode="ok", health_mode="500"); all are closed after the test."""
    made: list[Backend] = []

    def make(name: str, **kwargs: Any) -> Backend:
        server = Backend(name, **kwargs)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- load balancers ------------------------------------------------------------------------------


@pytest.fixture
def make_lb() -> Iterator[Callable[..., LoadBalancer]]:
    """Factory for started load balancers with fast health checks and a 1 s idle timeout; all stopped after."""
    made: list[LoadBalancer] = []

    def make(
        groups: dict[str, list[tuple[str, int]]] | list[TargetGroupConfig],
        listeners: dict[str, dict[str, int]] | list[ListenerConfig],
        *,
        health_check: HealthCheck = FAST_CHECK,
        name: str = "web",
        start: bool = True,
        **kwargs: Any,
    ) -> LoadBalancer:
        if isinstance(groups, dict):
            groups = [TargetGroupConfig(g, targets, health_check=health_check) for g, targets in groups.items()]
        if isinstance(listeners, dict):
            listeners = [ListenerConfig(n, weights) for n, weights in listeners.items()]
        kwargs.setdefault("idle_timeout", 1.0)
        lb = LoadBalancer(name, target_groups=groups, listeners=listeners, **kwargs)
        made.append(lb)
        return lb.start() if start else lb

    yield make
    for lb in made:
        lb.stop()


# --- moto ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def cloudwatch(moto_endpoint: str) -> Any:
    return boto3.client(
        "cloudwatch",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
