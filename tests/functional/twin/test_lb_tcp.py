"""The twin's load balancer as a Network Load Balancer: TCP listeners and TCP health checks.

An NLB forwards connections, not requests, and its TCP health check passes when the connection opens
(ELBv2 HealthCheckProtocol TCP; https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html).
"""

from __future__ import annotations

import http.client
from collections import Counter
from dataclasses import replace

import pytest
from lb_harness import FAST_CHECK, call, wait_states

from greenlight_twin.lb import HEALTHY, UNHEALTHY, ConfigError, HealthCheck, ListenerConfig

TCP_CHECK = replace(FAST_CHECK, protocol="TCP")


def one_request(port: int) -> tuple[int, str]:
    """A request on a fresh connection (an NLB picks a target per connection): status and who answered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/", headers={"Connection": "close"})
        response = conn.getresponse()
        body = response.read()
        return response.status, body.decode()
    finally:
        conn.close()


def test_tcp_health_check_passes_on_connect_whatever_the_http_answer(backend, make_lb, closed_port):
    # GIVEN a target whose /health answers 500 (an ALB would mark it unhealthy) and a port where nothing listens
    sick = backend("sick", health_mode="500")
    lb = make_lb({"blue": [sick.target, ("127.0.0.1", closed_port)]}, {"prod": {"blue": 1}}, health_check=TCP_CHECK)

    # THEN the TCP check finds the first healthy (the connection opens) and the closed port unhealthy
    wait_states(lb, "blue", {sick.port: HEALTHY, closed_port: UNHEALTHY})
    refused = lb.health_snapshot("blue", [("127.0.0.1", closed_port)])[0]
    assert refused.reason == "Target.FailedHealthChecks"
    assert sick.health_checks == 0  # no HTTP request was made


def test_tcp_listener_relays_connections_by_weight(backend, make_lb):
    # GIVEN a TCP listener forwarding 3:1 to two groups of one target each
    blue, green = backend("blue"), backend("green")
    lb = make_lb(
        {"blue": [blue.target], "green": [green.target]},
        [ListenerConfig("prod", {"blue": 3, "green": 1}, protocol="TCP")],
        health_check=TCP_CHECK,
    )
    wait_states(lb, "blue", {blue.port: HEALTHY})
    wait_states(lb, "green", {green.port: HEALTHY})

    # WHEN eight connections each carry one HTTP request
    answers = [one_request(lb.port("prod")) for _ in range(8)]

    # THEN every answer is the target's own (bytes relayed as they are), six from blue and two from green
    assert all(status == 200 for status, _ in answers)
    seen = Counter("green" if '"green"' in body else "blue" for _, body in answers)
    assert seen == {"blue": 6, "green": 2}


def test_tcp_listener_without_target_closes_the_connection(make_lb):
    # GIVEN a TCP listener over an empty group
    lb = make_lb({"blue": []}, [ListenerConfig("prod", {"blue": 1}, protocol="TCP")], health_check=TCP_CHECK)

    # WHEN a client sends a request, THEN the connection closes without an answer (no ALB page at layer 4)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        one_request(lb.port("prod"))


def test_tcp_protocol_names_are_checked() -> None:
    with pytest.raises(ConfigError, match="protocol 'UDP'"):
        ListenerConfig("prod", {"blue": 1}, protocol="UDP")
    with pytest.raises(ConfigError, match="health check protocol 'TLS'"):
        HealthCheck(protocol="TLS")


def test_header_route_sends_marked_requests_by_the_other_listeners_weights(backend, make_lb):
    # GIVEN a production listener on blue that routes requests carrying x-test-traffic: true as the test listener
    # does (on green), as a Service Connect proxy routes test traffic by testTrafficRules
    blue, green = backend("blue"), backend("green")
    lb = make_lb(
        {"blue": [blue.target], "green": [green.target]},
        [
            ListenerConfig("prod", {"blue": 1}, header_route=("x-test-traffic", "true", "test")),
            ListenerConfig("test", {"green": 1}),
        ],
    )
    wait_states(lb, "blue", {blue.port: HEALTHY})
    wait_states(lb, "green", {green.port: HEALTHY})

    # WHEN requests go to production with and without the header (and with another value)
    marked = call(lb.port("prod"), "/", headers={"x-test-traffic": "true"}).json()["backend"]
    plain = call(lb.port("prod"), "/").json()["backend"]
    other = call(lb.port("prod"), "/", headers={"x-test-traffic": "yes"}).json()["backend"]

    # THEN only the exact match goes to green
    assert (marked, plain, other) == ("green", "blue", "blue")


def test_header_route_to_an_unknown_listener_is_refused(make_lb):
    with pytest.raises(ConfigError, match="unknown listener 'nope'"):
        make_lb({"blue": []}, [ListenerConfig("prod", {"blue": 1}, header_route=("x", "1", "nope"))], start=False)
