"""Fixtures of the functional tests: real HTTP servers on 127.0.0.1, the twin's moto server, a loopback guard.

`support.servers` is importable because tests/conftest.py puts the tests folder on sys.path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from support.aws import drop_parameter_providers
from support.servers import LOOPBACK, HttpServer, RefusingPort, Reply, Responder, SilentServer, loopback_guard


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[list[str]]:
    """Every functional test runs with connections outside 127.0.0.0/8 refused; yields what was refused."""
    with loopback_guard() as refused:
        yield refused


@pytest.fixture
def serve() -> Iterator[Callable[..., HttpServer]]:
    """Factory: serve(Reply(...), routes={...}, host=...) starts an HttpServer; all are stopped after the test."""
    started: list[HttpServer] = []

    def start(
        reply: Reply | Responder | None = None,
        *,
        routes: Mapping[str, Reply | Responder] | None = None,
        host: str = LOOPBACK,
    ) -> HttpServer:
        server = HttpServer(reply, routes=routes, host=host).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    """A server that accepts connections and never answers."""
    with SilentServer() as server:
        yield server


@pytest.fixture
def refused_port() -> Iterator[RefusingPort]:
    """A 127.0.0.1 port that refuses every connection."""
    with RefusingPort() as port:
        yield port


# --- AWS: the twin's moto server -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Any]:
    """One moto server (with greenlight's extensions) on 127.0.0.1 for the session."""
    from greenlight_twin.aws import start

    server = start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def seeded(moto_server: Any) -> Iterator[tuple[Any, str]]:
    """One CodeDeploy blue/green deployment seeded for the module (seeding takes about a second), stopped at
    AfterAllowTestTraffic; yields (session, deployment id). Each test opens its own hook execution of it."""
    from greenlight_twin.aws import seed_bluegreen

    moto_server.reset()
    session = moto_server.session()
    world = seed_bluegreen(session)
    assert world.deployment_id is not None
    yield session, world.deployment_id
    moto_server.reset()


@pytest.fixture
def seeded_aws(seeded: tuple[Any, str], moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """AwsClients on the seeded deployment's session, with this process's boto3 pointed at the twin too."""
    from greenlight.aws import AwsClients

    for name, value in moto_server.client_env().items():
        monkeypatch.setenv(name, value)
    drop_parameter_providers()
    yield AwsClients(session=seeded[0])
    drop_parameter_providers()


@pytest.fixture
def aws_env(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An emptied moto server, with this process's boto3 pointed at it; yields the server.

    Powertools' parameter providers are dropped before and after: they keep a client and cached values
    across calls, which would leak from one test to the next.
    """
    moto_server.reset()
    for name, value in moto_server.client_env().items():
        monkeypatch.setenv(name, value)
    drop_parameter_providers()
    yield moto_server
    drop_parameter_providers()
    moto_server.reset()
