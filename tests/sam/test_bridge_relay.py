"""The relay that lets containers reach the twin: from a Docker bridge address to 127.0.0.1, and nowhere else."""

from __future__ import annotations

import http.server
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from greenlight_twin.functions.bridge import BridgeRelay, bridge_interfaces, is_bridge_address
from greenlight_twin.functions.errors import LambdaStartError


@pytest.fixture
def bridge() -> str:
    bridges = bridge_interfaces()
    if not bridges:
        pytest.skip("no Docker bridge interface on this host (scripts/docker-engine start creates docker0)")
    return sorted(bridges.values())[0]


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A real HTTP server on 127.0.0.1 answering its own port in a header."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"from loopback"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_bridge_relay_forwards_the_same_port_to_loopback(bridge: str, loopback_server: int) -> None:
    # GIVEN a relay of the server's port on the bridge address
    relay = BridgeRelay(bridge)
    relay.add([loopback_server])
    try:
        # WHEN a client (as a container would) asks the bridge address
        url = relay.url(f"http://127.0.0.1:{loopback_server}/x")
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (a bridge address of this host)
            body = response.read()
    finally:
        relay.stop()

    # THEN the loopback server answered, and the URL names the bridge address
    assert url == f"http://{bridge}:{loopback_server}/x"
    assert body == b"from loopback"


def test_bridge_relay_refuses_an_address_that_is_not_a_bridge() -> None:
    assert not is_bridge_address("127.0.0.1")
    with pytest.raises(LambdaStartError, match="not the address of a Docker bridge interface"):
        BridgeRelay("10.1.2.3")
