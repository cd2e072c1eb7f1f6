"""Routing of the twin's load balancer: healthy targets, fail open, weights, ALB's 502/503/504, forwarding."""

from __future__ import annotations

import http.client
import json
import socket
from collections import Counter

import pytest
from lb_harness import HANG_LIMIT, call, wait_for, wait_states

from greenlight_twin.lb import (
    HEALTHY,
    INITIAL,
    UNHEALTHY,
    ConfigError,
    HealthCheck,
    ListenerConfig,
    PortInUseError,
    UnknownListenerError,
    UnknownTargetGroupError,
    WeightsError,
)


def served_by(port: int, n: int, path: str = "/") -> Counter[str]:
    """Which backend answered each of n requests (statuses other than 200 count as the status)."""
    seen: Counter[str] = Counter()
    for _ in range(n):
        reply = call(port, path)
        seen[reply.json()["backend"] if reply.status == 200 else str(reply.status)] += 1
    return seen


def test_routing_sends_traffic_only_to_healthy_targets(backend, make_lb):
    # GIVEN one healthy target and one whose health check fails (but whose traffic path works)
    good, sick = backend("good"), backend("sick", health_mode="500")
    lb = make_lb({"blue": [good.target, sick.target]}, {"prod": {"blue": 1}})
    wait_states(lb, "blue", {good.port: HEALTHY, sick.port: UNHEALTHY})

    # WHEN 20 requests go through the listener
    seen = served_by(lb.port("prod"), 20)

    # THEN all of them reach the healthy target
    assert seen == {"good": 20}
    assert sick.requests == 0
    assert lb.metrics_snapshot().targets["blue"] == {good.target: 20}


def test_routing_round_robins_across_healthy_targets(backend, make_lb):
    # GIVEN three healthy targets
    servers = [backend(f"b{i}") for i in range(3)]
    lb = make_lb({"blue": [s.target for s in servers]}, {"prod": {"blue": 1}})
    wait_states(lb, "blue", {s.port: HEALTHY for s in servers})

    # WHEN 30 requests go through
    seen = served_by(lb.port("prod"), 30)

    # THEN each target gets a third
    assert seen == {"b0": 10, "b1": 10, "b2": 10}


def test_routing_fails_open_when_all_targets_are_unhealthy(backend, make_lb):
    # GIVEN two targets whose health checks fail but that answer traffic
    a, b = backend("a", health_mode="500"), backend("b", health_mode="500")
    lb = make_lb({"blue": [a.target, b.target]}, {"prod": {"blue": 1}})
    wait_states(lb, "blue", {a.port: UNHEALTHY, b.port: UNHEALTHY})

    # WHEN requests go through
    seen = served_by(lb.port("prod"), 10)

    # THEN ALB fails open: both targets get traffic
    assert seen == {"a": 5, "b": 5}


def test_routing_fails_open_to_targets_still_in_initial(backend, make_lb):
    # GIVEN a target that cannot leave initial (10 passing checks needed, a long interval)
    blue = backend("blue")
    slow = HealthCheck(interval=30, timeout=1, healthy_threshold=10)
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}}, health_check=slow)
    assert lb.health_snapshot("blue")[0].state == INITIAL

    # WHEN a request goes through
    reply = call(lb.port("prod"))

    # THEN it reaches the initial target
    assert reply.status == 200
    assert reply.json()["backend"] == "blue"


@pytest.mark.parametrize(
    ("weights", "expected"),
    [({"blue": 100, "green": 0}, {"blue": 40}), ({"blue": 0, "green": 100}, {"green": 40})],
    ids=["100-0", "0-100"],
)
def test_routing_weights_all_or_nothing(backend, make_lb, weights, expected):
    # GIVEN blue and green groups, each with a healthy target, and a listener weighted all to one
    blue, green = backend("blue"), backend("green")
    lb = make_lb({"blue": [blue.target], "green": [green.target]}, {"prod": weights})
    wait_states(lb, "blue", {blue.port: HEALTHY})
    wait_states(lb, "green", {green.port: HEALTHY})

    # WHEN 40 requests go through
    seen = served_by(lb.port("prod"), 40)

    # THEN every request goes to the group with the weight
    assert seen == expected


def test_routing_weights_split_traffic_by_proportion(backend, make_lb):
    # GIVEN a listener weighted 90/10 between blue and green
    blue, green = backend("blue"), backend("green")
    lb = make_lb({"blue": [blue.target], "green": [green.target]}, {"prod": {"blue": 90, "green": 10}})
    wait_states(lb, "green", {green.port: HEALTHY})

    # WHEN 200 requests go through
    seen = served_by(lb.port("prod"), 200)

    # THEN about 90 % reach blue and 10 % green
    assert seen["blue"] + seen["green"] == 200
    assert 170 <= seen["blue"] <= 190
    assert 10 <= seen["green"] <= 30


def test_routing_set_weights_shifts_traffic_at_runtime(backend, make_lb):
    # GIVEN all traffic on blue
    blue, green = backend("blue"), backend("green")
    lb = make_lb({"blue": [blue.target], "green": [green.target]}, {"prod": {"blue": 1, "green": 0}})
    wait_states(lb, "green", {green.port: HEALTHY})
    before = served_by(lb.port("prod"), 10)

    # WHEN the twin shifts traffic to 50/50, then all to green
    lb.set_weights("prod", {"blue": 50, "green": 50})
    half = served_by(lb.port("prod"), 20)
    lb.set_weights("prod", {"green": 1})
    after = served_by(lb.port("prod"), 10)

    # THEN each phase follows the weights in force
    assert before == {"blue": 10}
    assert half == {"blue": 10, "green": 10}
    assert after == {"green": 10}
    assert lb.weights("prod") == {"green": 1}


def test_routing_group_without_registered_targets_answers_503(backend, make_lb):
    # GIVEN a listener forwarding to an empty group
    lb = make_lb({"blue": []}, {"prod": {"blue": 1}})

    # WHEN a request comes
    reply = call(lb.port("prod"))

    # THEN ALB's 503 page comes back
    assert reply.status == 503
    assert b"<title>503 Service Temporarily Unavailable</title>" in reply.body
    assert reply.header("Server") == "awselb/2.0"
    assert reply.header("Content-Type") == "text/html"


def test_routing_refused_connection_answers_502(closed_port, make_lb):
    # GIVEN a target that refuses connections (unhealthy, so the group fails open to it)
    lb = make_lb({"blue": [("127.0.0.1", closed_port)]}, {"prod": {"blue": 1}})

    # WHEN a request comes
    reply = call(lb.port("prod"))

    # THEN ALB's 502 page comes back
    assert reply.status == 502
    assert b"<h1>502 Bad Gateway</h1>" in reply.body


def test_routing_garbage_answer_answers_502(backend, make_lb):
    # GIVEN a target that answers traffic with something that is not HTTP
    blue = backend("blue", mode="garbage")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})

    # WHEN a request comes
    reply = call(lb.port("prod"))

    # THEN 502
    assert reply.status == 502


def test_routing_target_silent_past_idle_timeout_answers_504(backend, make_lb):
    # GIVEN a target that never answers and a 0.5 s idle timeout
    blue = backend("blue", mode="hang")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}}, idle_timeout=0.5)

    # WHEN a request comes
    reply = call(lb.port("prod"), timeout=HANG_LIMIT)

    # THEN ALB's 504 page comes back
    assert reply.status == 504
    assert b"<title>504 Gateway Time-out</title>" in reply.body


def test_routing_forwards_method_path_query_headers_and_body(backend, make_lb):
    # GIVEN a target that echoes the request and answers 201 with its own headers
    blue = backend("blue", mode="201")
    blue.extra_headers = [("X-Version", "v2"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})
    port = lb.port("prod")

    # WHEN a POST with a query, headers and a body comes through
    reply = call(
        port,
        "/orders?id=7&x=a%20b",
        method="POST",
        headers={
            "X-Custom": "yes",
            "X-Forwarded-For": "203.0.113.9",
            "Connection": "keep-alive, X-Drop",
            "X-Drop": "1",
        },
        body=b'{"qty": 3}',
    )

    # THEN the target saw it all, with ALB's forwarding headers, minus hop-by-hop ones
    assert reply.status == 201
    echo = reply.json()
    sent = {k.lower(): v for k, v in echo["headers"]}
    assert (echo["method"], echo["path"], echo["body"]) == ("POST", "/orders?id=7&x=a%20b", '{"qty": 3}')
    assert sent["x-custom"] == "yes"
    assert sent["host"] == f"127.0.0.1:{port}"
    assert sent["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert (sent["x-forwarded-proto"], sent["x-forwarded-port"]) == ("http", str(port))
    assert sent["x-amzn-trace-id"].startswith("Root=1-")
    assert "x-drop" not in sent and "connection" not in sent
    # AND the target's status, headers (repeated ones too) and body came back
    assert reply.header("X-Version") == "v2"
    assert [v for k, v in reply.headers if k == "Set-Cookie"] == ["a=1", "b=2"]


def test_routing_forwards_a_chunked_request_body_whole(backend, make_lb):
    # GIVEN a target that echoes the request
    blue = backend("blue")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})

    # WHEN a client sends its body in chunks
    conn = http.client.HTTPConnection("127.0.0.1", lb.port("prod"), timeout=10)
    try:
        conn.request("PUT", "/upload", body=iter([b"alpha-", b"beta-", b"gamma"]), encode_chunked=True)
        response = conn.getresponse()
        echo = json.loads(response.read())
    finally:
        conn.close()

    # THEN the target gets the whole body, with a Content-Length
    assert echo["body"] == "alpha-beta-gamma"
    assert {k.lower(): v for k, v in echo["headers"]}["content-length"] == "16"


def test_routing_malformed_request_gets_400_from_the_load_balancer(backend, make_lb):
    # GIVEN a running load balancer
    blue = backend("blue")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})

    # WHEN a request with a malformed Content-Length comes
    with socket.create_connection(("127.0.0.1", lb.port("prod")), timeout=5) as raw:
        raw.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n")
        answer = raw.makefile("rb").read()

    # THEN the load balancer answers 400 itself, counts it as its own 4XX, and the target never sees it
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"<h1>400 Bad Request</h1>" in answer
    assert lb.metrics_snapshot().load_balancer["HTTPCode_ELB_4XX_Count"] == 1
    assert blue.requests == 0


def test_routing_passes_target_errors_through(backend, make_lb):
    # GIVEN a target that answers 500 to traffic (but passes health checks)
    blue = backend("blue", mode="500")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})

    # WHEN a request comes
    reply = call(lb.port("prod"))

    # THEN the target's own 500 comes back, not an ALB page
    assert reply.status == 500
    assert reply.json()["backend"] == "blue"


def test_routing_relays_large_and_chunked_bodies_whole(backend, make_lb):
    # GIVEN a target with a 3 MB body and another with a chunked body
    big = backend("big", mode="big")
    big.big_body = bytes(range(256)) * (3 * 1024 * 4)
    chunked = backend("chunked", mode="chunked")
    lb = make_lb({"big": [big.target], "chunked": [chunked.target]}, {"a": {"big": 1}, "b": {"chunked": 1}})

    # WHEN both are fetched through the load balancer
    big_reply = call(lb.port("a"))
    chunked_reply = call(lb.port("b"))

    # THEN the bodies arrive intact
    assert big_reply.body == big.big_body
    assert chunked_reply.body == b"first,second,third"


def test_routing_head_request_gets_headers_without_body(backend, make_lb):
    # GIVEN a target
    blue = backend("blue")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})

    # WHEN a HEAD request comes
    reply = call(lb.port("prod"), method="HEAD")

    # THEN the status and Content-Length come back, with no body
    assert reply.status == 200
    assert int(reply.header("Content-Length") or 0) > 0
    assert reply.body == b""


def test_routing_keeps_client_connections_alive(backend, make_lb):
    # GIVEN a target
    blue = backend("blue")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})

    # WHEN one client connection sends three requests
    conn = http.client.HTTPConnection("127.0.0.1", lb.port("prod"), timeout=5)
    try:
        statuses = []
        for _ in range(3):
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        conn.close()

    # THEN all three are answered on it
    assert statuses == [200, 200, 200]
    assert blue.requests == 3


def test_routing_registered_target_gets_traffic_and_deregistered_one_stops(backend, make_lb):
    # GIVEN a group with one healthy target
    first, second = backend("first"), backend("second")
    lb = make_lb({"blue": [first.target]}, {"prod": {"blue": 1}})
    wait_states(lb, "blue", {first.port: HEALTHY})

    # WHEN a second target is registered and becomes healthy
    lb.register_targets("blue", [second.target])
    wait_states(lb, "blue", {first.port: HEALTHY, second.port: HEALTHY})
    both = served_by(lb.port("prod"), 10)
    # AND the first is deregistered
    lb.deregister_targets("blue", [first.target])
    only = served_by(lb.port("prod"), 10)

    # THEN traffic follows the registrations
    assert both == {"first": 5, "second": 5}
    assert only == {"second": 10}
    assert [t.port for t in lb.health_snapshot("blue")] == [second.port]


def test_routing_unknown_names_and_bad_weights_are_clear_errors(backend, make_lb):
    # GIVEN a running load balancer
    lb = make_lb({"blue": [], "green": []}, {"prod": {"blue": 1}})

    # WHEN names or weights are wrong THEN each error says what is wrong
    with pytest.raises(UnknownListenerError, match="no listener 'nope'; known: prod"):
        lb.set_weights("nope", {"blue": 1})
    with pytest.raises(UnknownTargetGroupError, match="no target group 'red'; known: blue, green"):
        lb.register_targets("red", [("127.0.0.1", 8080)])
    with pytest.raises(WeightsError, match="weight of 'blue' is negative"):
        lb.set_weights("prod", {"blue": -1, "green": 1})
    with pytest.raises(WeightsError, match="all weights are zero"):
        lb.set_weights("prod", {"blue": 0, "green": 0})
    with pytest.raises(WeightsError, match="unknown target group.*red"):
        lb.set_weights("prod", {"red": 1})
    with pytest.raises(WeightsError, match="expected an integer"):
        lb.set_weights("prod", {"blue": 0.5})
    # AND the weights in force did not change
    assert lb.weights("prod") == {"blue": 1}


def test_routing_target_outside_loopback_is_refused(make_lb):
    # GIVEN a running load balancer
    lb = make_lb({"blue": []}, {"prod": {"blue": 1}})

    # WHEN a target outside 127.0.0.0/8 is registered THEN it is refused, naming the host
    with pytest.raises(ConfigError, match="'10.0.0.5' is not on the loopback interface"):
        lb.register_targets("blue", [("10.0.0.5", 80)])


def test_routing_port_in_use_is_a_clear_error(make_lb):
    # GIVEN a port already listened on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # WHEN a listener asks for it THEN the error names the listener and the port
        with pytest.raises(
            PortInUseError, match=f"listener 'prod' cannot bind 127.0.0.1:{port}: the port is already in use"
        ):
            make_lb({"blue": []}, [ListenerConfig("prod", {"blue": 1}, port=port)])


def test_routing_listener_on_a_chosen_port(backend, make_lb):
    # GIVEN a free port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    blue = backend("blue")

    # WHEN a listener is configured on it
    lb = make_lb({"blue": [blue.target]}, [ListenerConfig("prod", {"blue": 1}, port=port)])

    # THEN it is bound there and serves
    assert lb.port("prod") == port
    assert lb.url("prod") == f"http://127.0.0.1:{port}"
    assert wait_for(lambda: call(port).status == 200, "an answer on the chosen port")
