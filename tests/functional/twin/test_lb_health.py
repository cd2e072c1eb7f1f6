"""Health checks of the twin's load balancer: ALB's states and reason codes against real backends."""

from __future__ import annotations

import threading
from dataclasses import replace

from lb_harness import FAST_CHECK, call, states, wait_for, wait_states

from greenlight_twin.lb import (
    DRAINING,
    HEALTHY,
    INITIAL,
    UNHEALTHY,
    UNUSED,
    HealthChange,
    HealthCheck,
    ListenerConfig,
    TargetGroupConfig,
)


def test_health_initial_until_healthy_threshold_then_healthy(backend, make_lb):
    # GIVEN a healthy backend and a group that needs 3 passing checks in a row
    blue = backend("blue")
    changes: list[tuple[HealthChange, int]] = []
    check = HealthCheck(interval=0.1, timeout=0.3, healthy_threshold=3)

    def record(change: HealthChange) -> None:
        changes.append((change, blue.health_checks))

    # WHEN the load balancer starts
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}}, health_check=check, on_health_change=record)

    # THEN the target starts initial (Elb.InitialHealthChecking) and turns healthy after 3 checks
    wait_states(lb, "blue", {blue.port: HEALTHY})
    first, _ = changes[0]
    assert first.previous is None
    assert (first.current.state, first.current.reason) == (INITIAL, "Elb.InitialHealthChecking")
    assert first.current.description == "Initial health checks in progress"
    last, checks_seen = changes[-1]
    assert last.previous is not None
    assert (last.previous.state, last.current.state) == (INITIAL, HEALTHY)
    assert checks_seen >= 3
    assert last.current.reason is None and last.current.description is None
    assert [c.current.state for c, _ in changes] == [INITIAL, HEALTHY]


def test_health_non_matching_code_is_unhealthy_with_response_code_mismatch(backend, make_lb):
    # GIVEN a backend whose health path answers 500
    blue = backend("blue", health_mode="500")

    # WHEN it is checked
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})

    # THEN it is unhealthy with ALB's reason and the code in the description
    wait_states(lb, "blue", {blue.port: UNHEALTHY})
    (health,) = lb.health_snapshot("blue")
    assert health.reason == "Target.ResponseCodeMismatch"
    assert health.description == "Health checks failed with these codes: [500]"


def test_health_no_answer_within_timeout_is_unhealthy_with_timeout(backend, make_lb):
    # GIVEN a backend that never answers its health path
    blue = backend("blue", health_mode="hang")

    # WHEN it is checked with a 0.3 s timeout
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})

    # THEN it is unhealthy with Target.Timeout
    wait_states(lb, "blue", {blue.port: UNHEALTHY})
    (health,) = lb.health_snapshot("blue")
    assert (health.reason, health.description) == ("Target.Timeout", "Request timed out")


def test_health_refused_connection_is_unhealthy_with_failed_health_checks(closed_port, make_lb):
    # GIVEN a target on a port where nothing listens
    target = ("127.0.0.1", closed_port)

    # WHEN it is checked
    lb = make_lb({"blue": [target]}, {"prod": {"blue": 1}})

    # THEN it is unhealthy with Target.FailedHealthChecks
    wait_states(lb, "blue", {closed_port: UNHEALTHY})
    (health,) = lb.health_snapshot("blue")
    assert (health.reason, health.description) == ("Target.FailedHealthChecks", "Health checks failed")


def test_health_garbage_answer_is_unhealthy_with_failed_health_checks(backend, make_lb):
    # GIVEN a backend that answers its health path with something that is not HTTP
    blue = backend("blue", health_mode="garbage")

    # WHEN it is checked
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})

    # THEN it is unhealthy with Target.FailedHealthChecks
    wait_states(lb, "blue", {blue.port: UNHEALTHY})
    assert lb.health_snapshot("blue")[0].reason == "Target.FailedHealthChecks"


def test_health_matcher_accepts_ranges_and_lists(backend, make_lb):
    # GIVEN three backends whose health path answers 204, checked with different matchers
    a, b, c = backend("a", health_mode="204"), backend("b", health_mode="204"), backend("c", health_mode="204")
    groups = [
        TargetGroupConfig("range", [a.target], health_check=replace(FAST_CHECK, matcher="200-299")),
        TargetGroupConfig("list", [b.target], health_check=replace(FAST_CHECK, matcher="200,204")),
        TargetGroupConfig("exact", [c.target], health_check=replace(FAST_CHECK, matcher="200")),
    ]

    # WHEN they are checked
    lb = make_lb(groups, [ListenerConfig("prod", {"range": 1, "list": 1, "exact": 1})])

    # THEN 204 passes "200-299" and "200,204" but not "200"
    wait_states(lb, "range", {a.port: HEALTHY})
    wait_states(lb, "list", {b.port: HEALTHY})
    wait_states(lb, "exact", {c.port: UNHEALTHY})
    assert lb.health_snapshot("exact")[0].description == "Health checks failed with these codes: [204]"


def test_health_healthy_target_turns_unhealthy_and_recovers(backend, make_lb):
    # GIVEN a healthy target
    blue = backend("blue")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})
    wait_states(lb, "blue", {blue.port: HEALTHY})

    # WHEN its health path starts failing, then recovers
    blue.health_mode = "503"
    wait_states(lb, "blue", {blue.port: UNHEALTHY})
    unhealthy = lb.health_snapshot("blue")[0]
    blue.health_mode = "ok"

    # THEN it went unhealthy with the new code, and is healthy again
    wait_states(lb, "blue", {blue.port: HEALTHY})
    assert unhealthy.description == "Health checks failed with these codes: [503]"


def test_health_unhealthy_reason_follows_the_latest_failure(backend, make_lb):
    # GIVEN a target unhealthy for a 500
    blue = backend("blue", health_mode="500")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})
    wait_states(lb, "blue", {blue.port: UNHEALTHY})

    # WHEN it starts timing out instead
    blue.health_mode = "hang"

    # THEN the reason becomes Target.Timeout
    wait_for(lambda: lb.health_snapshot("blue")[0].reason == "Target.Timeout", "reason Target.Timeout")


def test_health_snapshot_has_describe_target_health_shape(backend, make_lb, closed_port):
    # GIVEN one healthy and one refusing target
    blue = backend("blue")
    lb = make_lb({"blue": [blue.target, ("127.0.0.1", closed_port)]}, {"prod": {"blue": 1}})
    wait_states(lb, "blue", {blue.port: HEALTHY, closed_port: UNHEALTHY})

    # WHEN the snapshot is asked about both and about a target that is not registered
    unknown = ("127.0.0.1", 9)
    described = [t.as_aws() for t in lb.health_snapshot("blue", [blue.target, ("127.0.0.1", closed_port), unknown])]

    # THEN each entry is a DescribeTargetHealth TargetHealthDescription
    assert described == [
        {
            "Target": {"Id": "127.0.0.1", "Port": blue.port},
            "HealthCheckPort": str(blue.port),
            "TargetHealth": {"State": "healthy"},
        },
        {
            "Target": {"Id": "127.0.0.1", "Port": closed_port},
            "HealthCheckPort": str(closed_port),
            "TargetHealth": {
                "State": "unhealthy",
                "Reason": "Target.FailedHealthChecks",
                "Description": "Health checks failed",
            },
        },
        {
            "Target": {"Id": "127.0.0.1", "Port": 9},
            "HealthCheckPort": "9",
            "TargetHealth": {
                "State": "unused",
                "Reason": "Target.NotRegistered",
                "Description": "Target is not registered to the target group",
            },
        },
    ]


def test_health_of_one_target_gives_the_answer_a_moto_provider_returns(backend, make_lb):
    # GIVEN a group with a target failing its health check
    blue = backend("blue", health_mode="500")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}})
    wait_states(lb, "blue", {blue.port: UNHEALTHY})

    # WHEN the health of that target, and of one not registered, is asked
    registered = lb.health_of("blue", blue.target).answer
    stranger = lb.health_of("blue", ("127.0.0.1", 9)).answer

    # THEN each is (state, reason, description)
    assert registered == ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]")
    assert stranger == ("unused", "Target.NotRegistered", "Target is not registered to the target group")


def test_health_group_without_listener_is_unused_until_a_listener_forwards_to_it(backend, make_lb):
    # GIVEN a green group that no listener forwards to
    blue, green = backend("blue"), backend("green")
    lb = make_lb({"blue": [blue.target], "green": [green.target]}, {"prod": {"blue": 1}})
    wait_states(lb, "blue", {blue.port: HEALTHY})

    # THEN green's target is unused (Target.NotInUse) and is not checked
    (health,) = lb.health_snapshot("green")
    assert (health.state, health.reason) == (UNUSED, "Target.NotInUse")
    assert green.health_checks == 0

    # WHEN a listener starts forwarding to green, even at weight 0
    lb.set_weights("prod", {"blue": 1, "green": 0})

    # THEN green is checked and becomes healthy
    wait_states(lb, "green", {green.port: HEALTHY})
    assert green.health_checks >= 2


def test_health_deregistered_target_drains_while_a_request_is_in_flight(backend, make_lb):
    # GIVEN a healthy target busy with a request that hangs
    blue = backend("blue")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}}, idle_timeout=10.0)
    wait_states(lb, "blue", {blue.port: HEALTHY})
    blue.mode = "hang"
    in_flight = threading.Thread(target=call, args=(lb.port("prod"),), kwargs={"timeout": 15}, daemon=True)
    in_flight.start()
    wait_for(lambda: blue.requests == 1, "the request to reach the backend")

    # WHEN it is deregistered
    lb.deregister_targets("blue", [blue.target])

    # THEN it drains (Target.DeregistrationInProgress) until the request ends, then is gone
    (health,) = lb.health_snapshot("blue")
    assert (health.state, health.reason) == (DRAINING, "Target.DeregistrationInProgress")
    blue.release.set()
    in_flight.join(15)
    wait_for(lambda: lb.health_snapshot("blue") == [], "the drained target to leave")
    assert lb.health_snapshot("blue", [blue.target])[0].reason == "Target.NotRegistered"


def test_health_idle_target_leaves_at_once_when_deregistered(backend, make_lb):
    # GIVEN a healthy target with no request in flight, and a long deregistration delay
    blue = backend("blue")
    changes: list[HealthChange] = []
    group = TargetGroupConfig("blue", [blue.target], health_check=FAST_CHECK, deregistration_delay=300)
    lb = make_lb([group], [ListenerConfig("prod", {"blue": 1})], on_health_change=changes.append)
    wait_states(lb, "blue", {blue.port: HEALTHY})

    # WHEN it is deregistered
    lb.deregister_targets("blue", [blue.target])

    # THEN it passes through draining and is gone at once, as on ALB
    assert states(lb, "blue") == {}
    assert [c.current.state for c in changes][-2:] == [DRAINING, UNUSED]
    assert changes[-1].current.reason == "Target.NotRegistered"


def test_health_draining_target_leaves_when_the_deregistration_delay_passes(backend, make_lb):
    # GIVEN a target busy with a hanging request, in a group with a 0.3 s deregistration delay
    blue = backend("blue")
    group = TargetGroupConfig("blue", [blue.target], health_check=FAST_CHECK, deregistration_delay=0.3)
    lb = make_lb([group], [ListenerConfig("prod", {"blue": 1})], idle_timeout=10.0)
    wait_states(lb, "blue", {blue.port: HEALTHY})
    blue.mode = "hang"
    in_flight = threading.Thread(target=call, args=(lb.port("prod"),), kwargs={"timeout": 15}, daemon=True)
    in_flight.start()
    wait_for(lambda: blue.requests == 1, "the request to reach the backend")

    # WHEN it is deregistered and the request never ends
    lb.deregister_targets("blue", [blue.target])
    assert states(lb, "blue") == {blue.port: DRAINING}

    # THEN it leaves once the delay has passed, request or not
    wait_for(lambda: states(lb, "blue") == {}, "the draining target to leave after the delay")
    assert in_flight.is_alive()
    blue.release.set()
    in_flight.join(15)


def test_health_registering_a_draining_target_again_restarts_its_checks(backend, make_lb):
    # GIVEN a target draining with a hanging request in flight
    blue = backend("blue")
    lb = make_lb({"blue": [blue.target]}, {"prod": {"blue": 1}}, idle_timeout=10.0)
    wait_states(lb, "blue", {blue.port: HEALTHY})
    blue.mode = "hang"
    in_flight = threading.Thread(target=call, args=(lb.port("prod"),), kwargs={"timeout": 15}, daemon=True)
    in_flight.start()
    wait_for(lambda: blue.requests == 1, "the request to reach the backend")
    lb.deregister_targets("blue", [blue.target])

    # WHEN it is registered again
    lb.register_targets("blue", [blue.target])

    # THEN it starts over from initial and turns healthy, and stays once its old request ends
    assert states(lb, "blue") == {blue.port: INITIAL}
    wait_states(lb, "blue", {blue.port: HEALTHY})
    blue.release.set()
    in_flight.join(15)
    assert states(lb, "blue") == {blue.port: HEALTHY}


def test_health_callback_may_change_weights(backend, make_lb):
    # GIVEN a callback that shifts all traffic to green once green's target is healthy
    blue, green = backend("blue"), backend("green")
    shifted = threading.Event()

    def on_change(change: HealthChange) -> None:
        if change.group == "green" and change.current.state == HEALTHY:
            lb.set_weights("prod", {"blue": 0, "green": 1})
            shifted.set()

    lb = make_lb(
        {"blue": [blue.target], "green": [green.target]},
        {"prod": {"blue": 1, "green": 0}},
        on_health_change=on_change,
        start=False,
    )
    lb.start()

    # WHEN green turns healthy
    wait_for(shifted.is_set, "the callback to shift traffic")

    # THEN the listener sends traffic to green
    assert call(lb.port("prod")).json()["backend"] == "green"
