"""Lifecycle of the twin's load balancer: start, stop (idempotent, nothing left behind), clear errors."""

from __future__ import annotations

import http.client
import os
import socket
import threading
from pathlib import Path

import pytest
from lb_harness import FAST_CHECK, call, wait_for, wait_states

from greenlight_twin.lb import (
    HEALTHY,
    ConfigError,
    HealthCheck,
    LifecycleError,
    ListenerConfig,
    LoadBalancer,
    TargetGroupConfig,
)


def _lb_threads(name: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(f"greenlight-lb:{name}:")]


def _open_sockets() -> int:
    fds = Path(f"/proc/{os.getpid()}/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += str(fd.readlink()).startswith("socket:")
        except OSError:
            continue  # closed while listing
    return count


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_stop_joins_every_thread_and_closes_every_socket(backend):
    # GIVEN a running load balancer with a hung request in flight and an idle keep-alive client
    blue, hung = backend("blue"), backend("hung", mode="hang")
    sockets_before = _open_sockets()
    lb = LoadBalancer(
        "life",
        target_groups=[
            TargetGroupConfig("blue", [blue.target], health_check=FAST_CHECK),
            TargetGroupConfig("hung", [hung.target], health_check=FAST_CHECK),
        ],
        listeners=[ListenerConfig("prod", {"blue": 1}), ListenerConfig("slow", {"hung": 1})],
        idle_timeout=30.0,
    ).start()
    wait_states(lb, "blue", {blue.port: HEALTHY})
    ports = [lb.port("prod"), lb.port("slow")]
    keep_alive = http.client.HTTPConnection("127.0.0.1", ports[0], timeout=10)
    keep_alive.request("GET", "/")
    keep_alive.getresponse().read()
    outcome: list[object] = []

    def hung_request() -> None:
        try:
            outcome.append(call(ports[1], timeout=20).status)
        except (OSError, http.client.HTTPException) as exc:
            outcome.append(exc)

    in_flight = threading.Thread(target=hung_request, daemon=True)
    in_flight.start()
    wait_for(lambda: hung.requests == 1, "the hung request to reach its backend")
    assert _lb_threads("life")

    # WHEN it stops (twice: stop is idempotent)
    lb.stop()
    lb.stop()

    # THEN no thread of it is left, its ports refuse connections, and its sockets are closed
    assert _lb_threads("life") == []
    assert all(_refused(p) for p in ports)
    in_flight.join(10)
    assert not in_flight.is_alive()
    # AND the client of the hung request was cut loose rather than left to its own timeout
    assert len(outcome) == 1 and isinstance(outcome[0], OSError | http.client.HTTPException)
    keep_alive.close()
    blue.close()
    hung.close()
    wait_for(lambda: _open_sockets() <= sockets_before, f"open sockets back to {sockets_before}")
    assert not lb.running


def test_stop_after_failed_start_leaves_nothing(backend):
    # GIVEN a port in use, wanted by the second of two listeners
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        lb = LoadBalancer(
            "broken",
            target_groups=[TargetGroupConfig("blue", health_check=FAST_CHECK)],
            listeners=[ListenerConfig("prod", {"blue": 1}), ListenerConfig("test", {"blue": 1}, port=port)],
        )

        # WHEN it starts THEN it fails, and the first listener's port and threads are gone too
        with pytest.raises(OSError, match="already in use"):
            lb.start()
    assert _lb_threads("broken") == []
    with pytest.raises(LifecycleError, match="not running"):
        lb.port("prod")


def test_context_manager_starts_and_stops(backend):
    # GIVEN a load balancer used as a context manager
    blue = backend("blue")
    lb = LoadBalancer(
        "ctx",
        target_groups=[TargetGroupConfig("blue", [blue.target], health_check=FAST_CHECK)],
        listeners=[ListenerConfig("prod", {"blue": 1})],
    )

    # WHEN a request goes through inside the block
    with lb:
        status = call(lb.port("prod")).status
        port = lb.port("prod")

    # THEN it served, and is stopped after the block
    assert status == 200
    assert _lb_threads("ctx") == []
    assert _refused(port)


def test_lifecycle_misuse_is_a_clear_error(make_lb):
    # GIVEN a load balancer not started yet, and one stopped
    fresh = make_lb({"blue": []}, {"prod": {"blue": 1}}, name="fresh", start=False)
    stopped = make_lb({"blue": []}, {"prod": {"blue": 1}}, name="stopped")
    stopped.stop()

    # WHEN they are misused THEN each error says what is wrong
    with pytest.raises(LifecycleError, match="'fresh' is not running"):
        fresh.port("prod")
    fresh.start()
    with pytest.raises(LifecycleError, match="already started"):
        fresh.start()
    with pytest.raises(LifecycleError, match="was stopped; create a new one"):
        stopped.start()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "bad_name!"}, "load balancer name 'bad_name!' is not valid"),
        ({"target_groups": []}, "needs at least one target group"),
        ({"listeners": []}, "needs at least one listener"),
        (
            {"listeners": [ListenerConfig("prod", {"blue": 1}), ListenerConfig("prod", {"blue": 1})]},
            "listener 'prod' is given twice",
        ),
        ({"listeners": [ListenerConfig("prod", {"red": 1})]}, "unknown target group.*red"),
        (
            {"listeners": [ListenerConfig("a", {"blue": 1}, port=8080), ListenerConfig("b", {"blue": 1}, port=8080)]},
            "both ask for port 8080",
        ),
        ({"idle_timeout": 0}, "idle_timeout 0 must be seconds > 0"),
        ({"cloudwatch": object(), "cloudwatch_endpoint_url": "http://127.0.0.1:1"}, "not both"),
        ({"cloudwatch_endpoint_url": "http://10.1.2.3:5000"}, "not on 127.0.0.1/localhost"),
        ({"lb_id": "not/an/id"}, "id 'not/an/id' is not valid"),
    ],
    ids=[
        "name",
        "no-groups",
        "no-listeners",
        "dup-listener",
        "unknown-group",
        "dup-port",
        "idle",
        "two-clients",
        "remote-cw",
        "id",
    ],
)
def test_config_errors_name_the_problem(kwargs, message):
    # GIVEN valid settings but for one
    settings = {
        "name": "web",
        "target_groups": [TargetGroupConfig("blue")],
        "listeners": [ListenerConfig("prod", {"blue": 1})],
        **kwargs,
    }

    # WHEN the load balancer is built THEN the error names the problem
    with pytest.raises(ConfigError, match=message):
        LoadBalancer(**settings)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TargetGroupConfig("blue", [("127.0.0.1", 70000)]), "port 70000, expected 1-65535"),
        (lambda: TargetGroupConfig("blue", [("example.com", 80)]), "'example.com' is not on the loopback"),
        (lambda: TargetGroupConfig("blue", deregistration_delay=-1), "deregistration_delay -1"),
        (lambda: ListenerConfig("prod", {"blue": 1}, port=-1), "port -1 must be 0-65535"),
    ],
    ids=["port", "remote-host", "delay", "listener-port"],
)
def test_group_and_listener_config_errors_name_the_problem(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"matcher": "2xx"}, "'2xx' is not a code or a range"),
        ({"matcher": "299-200"}, "not within 100-599, low to high"),
        ({"path": "health"}, "must start with '/'"),
        ({"interval": 0}, "interval 0 must be"),
        ({"healthy_threshold": 0}, "healthy_threshold 0 must be an integer from 1 to 10"),
    ],
)
def test_health_check_config_errors_name_the_problem(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        HealthCheck(**kwargs)
