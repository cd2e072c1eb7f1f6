"""The load's open-loop schedule (on a manual clock), its request order and quantiles, and its spec errors."""

from __future__ import annotations

import threading

import pytest

from greenlight.engine.deadline import Deadline
from greenlight.load import LoadRequest, LoadSpec, pace, quantile
from greenlight.spec import SpecError, build_spec
from support.clock import ManualClock


def test_pace_fixed_rate_dispatches_on_the_clock_not_on_replies() -> None:
    # GIVEN 10 requests/s for 3 s on a clock that moves only when the pacer waits
    clock = ManualClock()
    due: list[float] = []
    start = clock.monotonic()

    def dispatch(i: int) -> bool:
        due.append(clock.monotonic() - start)
        return True

    # WHEN
    sent, missed = pace(10.0, Deadline.after(60, clock), threading.Event(), dispatch, clock, duration=3.0)
    # THEN every request went out at start + i / rate, 30 in all, none missed
    assert (sent, missed) == (30, 0)
    assert due == pytest.approx([i / 10 for i in range(30)])


def test_pace_no_free_slot_counts_missed_and_keeps_the_schedule() -> None:
    # GIVEN a dispatcher whose slots are full for every other request (a slow green)
    clock = ManualClock()
    due: list[float] = []
    start = clock.monotonic()

    def dispatch(i: int) -> bool:
        due.append(clock.monotonic() - start)
        return i % 2 == 0

    # WHEN
    sent, missed = pace(20.0, Deadline.after(60, clock), threading.Event(), dispatch, clock, duration=1.0)
    # THEN the misses are counted and the later requests are still due on time: the rate is not lowered
    assert (sent, missed) == (10, 10)
    assert due == pytest.approx([i / 20 for i in range(20)])


def test_pace_late_dispatch_catches_up_without_waiting() -> None:
    # GIVEN a dispatcher that takes 0.25 s of the clock each time (the pacer itself fell behind)
    clock = ManualClock()

    def dispatch(i: int) -> bool:
        clock.advance(0.25)
        return True

    # WHEN
    sent, _ = pace(10.0, Deadline.after(60, clock), threading.Event(), dispatch, clock, duration=2.0)
    # THEN every request due within the duration is still sent (late ones at once), none dropped by the pacer
    assert sent == 20


def test_pace_stops_at_the_deadline_before_the_duration() -> None:
    clock = ManualClock()
    sent, missed = pace(100.0, Deadline.after(0.5, clock), threading.Event(), lambda i: True, clock, duration=30.0)
    assert (sent, missed) == (50, 0)


def test_pace_stops_when_told() -> None:
    clock = ManualClock()
    stop = threading.Event()

    def dispatch(i: int) -> bool:
        if i == 4:
            stop.set()
        return True

    sent, _ = pace(10.0, Deadline.after(60, clock), stop, dispatch, clock)
    assert sent == 5


def test_load_spec_order_weighted_spreads_by_weight() -> None:
    spec = LoadSpec(1.0, pick="weighted", requests=(LoadRequest(path="/a", weight=3), LoadRequest(path="/b")))
    order = spec.order()
    assert sorted(order) == [0, 0, 0, 1]
    assert LoadSpec(1.0, requests=(LoadRequest(), LoadRequest())).order() == [0, 1]


def test_quantile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (quantile(values, 0.5), quantile(values, 0.9), quantile(values, 0.99)) == (50.0, 90.0, 99.0)
    assert quantile([], 0.5) is None


def _spec(load: object, hooks: dict[str, object] | None = None) -> object:
    return build_spec(
        {
            "version": 1,
            "target": {"test_url": "http://127.0.0.1:8080"},
            "load": load,
            "hooks": hooks or {"AfterAllowTestTraffic": [{"name": "up", "http": {"path": "/"}}]},
        }
    )


def test_spec_load_reports_every_mistake_at_once() -> None:
    # GIVEN a load section with an unbounded rate, a NaN-like value, a bad duration, a bad path and a bad hook
    load = {
        "AfterAllowTestTraffic": {
            "rate": 5000,
            "concurrency": 0,
            "duration": "forever",
            "requests": [{"method": "FETCH", "path": "nope"}],
        },
        "BeforeAllowTraffic": {"rate": float("nan")},
    }
    # WHEN
    with pytest.raises(SpecError) as caught:
        _spec(load)
    text = str(caught.value)
    # THEN each is named with its place
    for where in (
        "load.AfterAllowTestTraffic.rate",
        "load.AfterAllowTestTraffic.concurrency",
        "load.AfterAllowTestTraffic.duration",
        "load.AfterAllowTestTraffic.requests[0].method",
        "load.AfterAllowTestTraffic.requests[0].path",
        "load.BeforeAllowTraffic.rate",
    ):
        assert where in text, (where, text)
    assert "not at BeforeAllowTraffic: CodeDeploy has no traffic steps" in text


def test_spec_load_at_a_production_stage_names_why() -> None:
    with pytest.raises(SpecError, match="not at AfterAllowTraffic: production traffic already goes to green"):
        _spec({"AfterAllowTraffic": {"rate": 1}})


def test_spec_load_check_without_a_load_section_is_an_error() -> None:
    hooks = {"AfterAllowTestTraffic": [{"name": "l", "load": {"max_error_rate": 0.01}}]}
    with pytest.raises(SpecError, match="needs a load section for its hook: add load.AfterAllowTestTraffic"):
        _spec({}, hooks)


def test_spec_load_applies_to_the_equivalent_ecs_stage() -> None:
    spec = _spec({"AfterAllowTestTraffic": {"rate": 50, "duration": "30s", "requests": [{"path": "/x"}]}})
    load = spec.load_for("POST_TEST_TRAFFIC_SHIFT")  # type: ignore[attr-defined]
    assert load is not None and (load.rate, load.duration, load.requests[0].path) == (50.0, 30.0, "/x")
    assert spec.load_for("PRE_SCALE_UP") is None  # type: ignore[attr-defined]


def test_spec_load_for_a_hook_without_checks_is_an_error() -> None:
    with pytest.raises(
        SpecError, match="load.POST_TEST_TRAFFIC_SHIFT: the load is sent while POST_TEST_TRAFFIC_SHIFT's"
    ):
        _spec({"POST_TEST_TRAFFIC_SHIFT": {"rate": 1}}, {"PRE_SCALE_UP": [{"name": "x", "http": {"path": "/"}}]})


def test_spec_load_of_a_step_stage_is_not_sent_at_codedeploy_before_allow_traffic() -> None:
    hooks = {"PRE_PRODUCTION_TRAFFIC_SHIFT": [{"name": "up", "http": {"path": "/"}}]}
    spec = _spec({"PRE_PRODUCTION_TRAFFIC_SHIFT": {"rate": 1}}, hooks)
    assert spec.load_for("PRE_PRODUCTION_TRAFFIC_SHIFT") is not None  # type: ignore[attr-defined]
    assert spec.load_for("BeforeAllowTraffic") is None  # type: ignore[attr-defined]
