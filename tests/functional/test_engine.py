"""The engine: checks side by side, repetition, early stop, crashes and overruns, and the deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from greenlight.engine.check import Check, CheckContext, Target
from greenlight.engine.deadline import Deadline
from greenlight.engine.model import CheckState, Measurement, Status, Tally, Verdict, errored, failed, passed
from greenlight.engine.policy import Policy
from greenlight.engine.run import Budget, RunOutcome, room_for_a_measurement, run
from greenlight.engine.runner import GRACE, run_checks
from greenlight.plan import run_hook
from greenlight.spec import build_spec
from greenlight.spec.schema import Obj
from support.clock import ManualClock
from support.servers import HttpServer, Recorded, Reply, first_n

HOOK = "AfterAllowTestTraffic"
SLACK = 3.0  # generous safety bound on runs that a deadline or timeout must end


def spec_with(url: str, checks: list[dict[str, Any]], **settings: Any) -> Any:
    doc = {"version": 1, "target": {"test_url": url, "prod_url": url}, "hooks": {HOOK: checks}, "settings": settings}
    return build_spec(doc, env={})


class FnCheck(Check):
    """A check whose measurement is a plain function: how engine behaviour is shown without a network."""

    kind = "fn"
    schema = Obj({})

    def __init__(self, name: str, policy: Policy, fn: Callable[[], Measurement]) -> None:
        super().__init__(name, policy, {})
        self.fn = fn

    def measure(self, ctx: CheckContext) -> Measurement:
        return self.fn()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event that stuck measurements wait on; set at teardown so their threads end."""
    event = threading.Event()
    yield event
    event.set()


def ctx(seconds: float = 30) -> CheckContext:
    return CheckContext(target=Target(), deadline=Deadline.after(seconds))


# --- concurrency --------------------------------------------------------------------------------------------


def test_engine_checks_run_concurrently() -> None:
    # GIVEN four checks that can only pass if all four are measuring at the same moment
    barrier = threading.Barrier(4, timeout=5)

    def meet() -> Measurement:
        barrier.wait()
        return passed("met")

    checks = [FnCheck(f"c{i}", Policy(count=1, timeout=10), meet) for i in range(4)]
    # WHEN they run
    results = run_checks(checks, ctx())
    # THEN all pass: none waited for another to finish
    assert [r.status for r in results] == [Status.PASS] * 4
    assert [r.name for r in results] == ["c0", "c1", "c2", "c3"]


def test_engine_http_checks_hit_the_server_side_by_side(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a server that answers only once five requests are in flight together
    barrier = threading.Barrier(5, timeout=5)

    def together(_request: Recorded) -> Reply:
        barrier.wait()
        return Reply(json={"status": "ok"})

    server = serve(together)
    spec = spec_with(server.url, [{"name": f"h{i}", "http": {"path": f"/{i}"}, "timeout": "8s"} for i in range(5)])
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(30))
    # THEN every check passed, so all five requests were open at once
    assert result.verdict is Verdict.PASSED
    assert len(server.requests) == 5


# --- repetition and early stop ------------------------------------------------------------------------------


def test_engine_count_and_interval(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a check of 3 measurements, 200 ms apart
    server = serve(Reply())
    spec = spec_with(server.url, [{"name": "h", "http": {"path": "/"}, "count": 3, "interval": "200ms"}])
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(30))
    # THEN the server saw exactly 3 requests, started no closer together than the interval
    (check,) = result.checks
    assert check.status is Status.PASS
    assert check.counts == {"PASS": 3, "FAIL": 0, "ERROR": 0}
    starts = [r.at for r in server.requests]
    assert len(starts) == 3
    # The interval is a lower bound on spacing (behaviour, not speed): allow for clock granularity only.
    assert all(b - a >= 0.19 for a, b in zip(starts, starts[1:], strict=False))


def test_engine_early_stop_on_failure_limit(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a check of 10 measurements tolerating one failure, against an endpoint that always fails
    server = serve(Reply(status=500))
    spec = spec_with(server.url, [{"name": "h", "http": {"path": "/"}, "count": 10, "interval": 0, "failure_limit": 1}])
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(30))
    # THEN the check stopped at the second failure: only 2 requests reached the server
    (check,) = result.checks
    assert check.status is Status.FAIL
    assert check.reason.startswith("2 failed measurement(s), more than failure_limit 1")
    assert check.reason.endswith("last: status 500, expected 200")
    assert len(server.requests) == 2
    assert result.verdict is Verdict.FAILED
    assert not result.succeeded


def test_engine_errors_then_recovery_passes(serve: Callable[..., HttpServer]) -> None:
    # GIVEN an endpoint whose first two answers are 500, then 200
    server = serve(first_n(2, Reply(status=500), then=Reply()))
    spec = spec_with(server.url, [{"name": "h", "http": {"path": "/"}, "count": 5, "interval": 0, "failure_limit": 2}])
    # WHEN a check tolerating two failures runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(30))
    # THEN it passes with the failures counted
    (check,) = result.checks
    assert check.status is Status.PASS
    assert check.counts == {"PASS": 3, "FAIL": 2, "ERROR": 0}
    assert result.succeeded


def test_engine_consecutive_successes_end_early(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a check of up to 20 measurements that needs 3 passes in a row
    server = serve(first_n(1, Reply(status=503), then=Reply()))
    check_doc = {
        "name": "h",
        "http": {"path": "/"},
        "count": 20,
        "interval": 0,
        "failure_limit": 1,
        "consecutive_successes": 3,
    }
    # WHEN it runs against an endpoint that fails once, then recovers
    result = run_hook(spec_with(server.url, [check_doc]), HOOK, deadline=Deadline.after(30))
    # THEN it passes as soon as 3 passes follow each other
    assert result.checks[0].status is Status.PASS
    assert len(server.requests) == 4


def test_engine_stops_other_checks_once_one_fails(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a check that fails at once, beside a long one against a healthy endpoint
    server = serve(routes={"/bad": Reply(status=500), "/good": Reply()})
    spec = spec_with(
        server.url,
        [
            {"name": "long", "http": {"path": "/good"}, "count": 100, "interval": "50ms"},
            {"name": "broken", "http": {"path": "/bad"}, "count": 1},
        ],
    )
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(30))
    # THEN the long check is stopped early (INCONCLUSIVE, naming why) and the run fails
    long, broken = result.checks
    assert broken.status is Status.FAIL
    assert long.status is Status.INCONCLUSIVE
    assert long.reason.startswith("stopped early: check 'broken' FAIL after ")
    assert len(server.requests_to("/good")) < 100
    assert result.verdict is Verdict.FAILED
    assert result.reason.startswith("FAILED: broken: ")


def test_engine_dry_run_check_does_not_stop_others(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a failing dry-run check beside a real one of 3 measurements
    server = serve(routes={"/bad": Reply(status=500), "/good": Reply()})
    spec = spec_with(
        server.url,
        [
            {"name": "trial", "http": {"path": "/bad"}, "dry_run": True},
            {"name": "real", "http": {"path": "/good"}, "count": 3, "interval": "50ms"},
        ],
    )
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(30))
    # THEN the real check completes, the run passes, and the reason says what would have failed
    trial, real = result.checks
    assert trial.status is Status.FAIL
    assert trial.dry_run
    assert real.status is Status.PASS
    assert len(server.requests_to("/good")) == 3
    assert result.verdict is Verdict.PASSED
    assert result.succeeded
    assert "dry run, would have failed: trial (FAIL: " in result.reason


def test_engine_dry_run_per_run_reports_success(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a spec in dry-run mode whose check fails
    server = serve(Reply(status=500))
    spec = spec_with(server.url, [{"name": "h", "http": {"path": "/"}}], dry_run=True)
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(30))
    # THEN the verdict is still FAILED, but success would be reported, and the reason says so
    assert result.verdict is Verdict.FAILED
    assert result.succeeded
    assert result.dry_run
    assert result.reason.startswith("dry run, would have reported Failed: FAILED: h: ")


# --- crashes and overruns -------------------------------------------------------------------------------


def test_engine_check_that_raises_is_error_named() -> None:
    # GIVEN a check whose measurement raises
    def crash() -> Measurement:
        raise RuntimeError("boom at line 7")

    checks = [FnCheck("crashy", Policy(count=1), crash)]
    # WHEN it runs
    (result,) = run_checks(checks, ctx())
    # THEN it is an ERROR under its own name, naming the exception
    assert (result.name, result.status) == ("crashy", Status.ERROR)
    assert result.measurements[0].reason == "RuntimeError: boom at line 7"
    assert "RuntimeError: boom at line 7" in result.reason


def test_engine_crash_text_is_masked_in_the_reason() -> None:
    # GIVEN a kind whose measurement and whose preparation raise quoting a secret and a token in a URL
    from greenlight.probe import redact

    redact.remember("hunter2-secret-value")
    try:

        def crash() -> Measurement:
            raise ConnectionError("GET https://green.example/x?token=abc123def failed for hunter2-secret-value")

        class Unprepared(FnCheck):
            def prepare(self, ctx: CheckContext) -> None:
                raise PermissionError("cannot read hunter2-secret-value")

        checks = [FnCheck("crashy", Policy(count=1), crash), Unprepared("unprepared", Policy(count=1), passed)]
        # WHEN they run, neither stopping the other: with the default stop on failure, the check that fails
        # first cuts the other one short (INCONCLUSIVE) whenever it has not measured yet
        results = run_checks(checks, ctx(), stop_on_failure=False)
    finally:
        redact.forget_all()
    # THEN each is an ERROR naming its exception, and neither the secret nor the token is in any reason
    said = " ".join(r.reason + " ".join(m.reason for m in r.measurements) for r in results)
    assert [r.status for r in results] == [Status.ERROR, Status.ERROR]
    assert "ConnectionError" in said and "PermissionError" in said
    assert "hunter2-secret-value" not in said and "abc123def" not in said


def test_engine_check_whose_prepare_raises_is_error() -> None:
    # GIVEN a check that cannot prepare
    class Unprepared(FnCheck):
        def prepare(self, ctx: CheckContext) -> None:
            raise PermissionError("no access to the secret")

    checks = [Unprepared("secretive", Policy(count=3), lambda: passed())]
    # WHEN it runs
    (result,) = run_checks(checks, ctx())
    # THEN it is an ERROR that says it could not prepare, and nothing was measured
    assert result.status is Status.ERROR
    assert result.reason.startswith("could not prepare: PermissionError: no access to the secret")
    assert result.counts == {"PASS": 0, "FAIL": 0, "ERROR": 1}


def test_engine_measure_overrun_is_error_timed_out(release: threading.Event) -> None:
    # GIVEN a check whose measurement hangs far past its 200 ms timeout
    def hang() -> Measurement:
        release.wait(60)
        return passed("too late")

    checks = [FnCheck("hangs", Policy(count=1, timeout=0.2), hang)]
    started = time.monotonic()
    # WHEN it runs
    (result,) = run_checks(checks, ctx())
    # THEN the engine stops waiting and records an ERROR saying it timed out
    assert result.status is Status.ERROR
    assert "measurement timed out after" in result.measurements[0].reason
    assert time.monotonic() - started < 0.2 + SLACK


def test_engine_check_returning_invalid_status_is_error() -> None:
    # GIVEN a check that returns INCONCLUSIVE, which only the engine may decide
    checks = [FnCheck("odd", Policy(count=1), lambda: Measurement(Status.INCONCLUSIVE, "unsure"))]
    # WHEN it runs
    (result,) = run_checks(checks, ctx())
    # THEN the measurement is an ERROR naming the bad status
    assert result.status is Status.ERROR
    assert "check returned invalid status" in result.measurements[0].reason


def test_engine_progress_sees_every_measurement() -> None:
    # GIVEN a check of 3 measurements and a progress callback
    seen: list[tuple[str, int, Status]] = []
    checks = [FnCheck("p", Policy(count=3, interval=0), lambda: passed())]
    # WHEN it runs
    run_checks(checks, ctx(), progress=lambda check, i, m: seen.append((check.name, i, m.status)))
    # THEN the callback saw each measurement in order
    assert seen == [("p", 0, Status.PASS), ("p", 1, Status.PASS), ("p", 2, Status.PASS)]


# --- the deadline -----------------------------------------------------------------------------------------


def test_engine_never_runs_past_the_deadline(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a check of 1000 measurements 100 ms apart, and a 1 s deadline
    server = serve(Reply())
    spec = spec_with(server.url, [{"name": "h", "http": {"path": "/"}, "count": 1000, "interval": "100ms"}])
    started = time.monotonic()
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(1.0))
    # THEN the check is cut short as INCONCLUSIVE and the run reports Failed (fail closed)
    (check,) = result.checks
    assert check.status is Status.INCONCLUSIVE
    assert check.reason.startswith("deadline reached after ")
    assert check.reason.endswith(" of 1000 measurements")
    assert 0 < len(server.requests) < 1000
    assert result.verdict is Verdict.INCONCLUSIVE
    assert not result.succeeded
    assert time.monotonic() - started < 1.0 + SLACK


def test_engine_deadline_with_on_inconclusive_pass_succeeds(serve: Callable[..., HttpServer]) -> None:
    # GIVEN the same cut-short check, with on_inconclusive: pass
    server = serve(Reply())
    spec = spec_with(
        server.url, [{"name": "h", "http": {"path": "/"}, "count": 1000, "interval": "100ms"}], on_inconclusive="pass"
    )
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(0.5))
    # THEN the verdict stays INCONCLUSIVE but success is reported
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.succeeded


def test_engine_deadline_bounds_a_hanging_probe(silent_server: Any) -> None:
    # GIVEN a check with a 30 s timeout against a server that never answers, and a 1 s deadline
    spec = spec_with(silent_server.url, [{"name": "h", "http": {"path": "/"}, "count": 3, "timeout": "30s"}])
    started = time.monotonic()
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(1.0))
    # THEN the probe was cut at the deadline, not at its own timeout, and the run is not a pass
    (check,) = result.checks
    (m,) = check.measurements
    assert m.status is Status.ERROR
    # The probe's own wall-clock timeout and the engine's backstop both end at the deadline: either may report.
    assert m.details.get("error") == "timeout" or "measurement timed out" in m.reason
    assert check.status is Status.ERROR  # cut short with nothing passed
    assert not result.succeeded
    assert time.monotonic() - started < 1.0 + SLACK


def test_engine_expired_deadline_measures_nothing(serve: Callable[..., HttpServer]) -> None:
    # GIVEN a deadline that has already passed
    server = serve(Reply())
    spec = spec_with(server.url, [{"name": "h", "http": {"path": "/"}, "count": 3}])
    # WHEN the hook runs
    result = run_hook(spec, HOOK, deadline=Deadline.after(0))
    # THEN no request is made, and the check is an ERROR (nothing measured is no evidence), even when the spec
    # lets INCONCLUSIVE pass
    (check,) = result.checks
    assert check.status is Status.ERROR
    assert check.reason == "deadline reached before any of 3 measurements: nothing was measured"
    assert server.requests == []
    assert not result.succeeded
    lenient = spec_with(server.url, [{"name": "h", "http": {"path": "/"}, "count": 3}], on_inconclusive="pass")
    assert not run_hook(lenient, HOOK, deadline=Deadline.after(0)).succeeded


# --- runs over several rounds -------------------------------------------------------------------------------


class PatternCheck(Check):
    """The n-th measurement of a run is the n-th letter of `pattern` (P, F, E), and takes `takes` seconds of `clock`.

    The count lives outside the check, as a resumed run builds its checks afresh each round.
    """

    kind = "pattern"
    schema = Obj({})

    def __init__(self, name: str, policy: Policy, pattern: str, clock: ManualClock, taken: list[int]) -> None:
        super().__init__(name, policy, {})
        self.pattern, self.clock, self.taken = pattern, clock, taken

    def measure(self, ctx: CheckContext) -> Measurement:
        n = len(self.taken)
        self.taken.append(n)
        self.clock.advance(0.4)
        letter = self.pattern[n % len(self.pattern)]
        make = {"P": passed, "F": failed, "E": errored}[letter]
        return make(f"measurement {n + 1}: {letter}")


def _rounds(
    policy: Policy, pattern: str, round_seconds: float, limit: int = 100
) -> tuple[list[RunOutcome], list[int], ManualClock]:
    """Run one check round after round, each round `round_seconds` long, until a round decides the run."""
    clock, taken = ManualClock(), []
    outcomes: list[RunOutcome] = []
    states: dict[str, CheckState] = {}
    for _ in range(limit):
        checks = [PatternCheck("c", policy, pattern, clock, taken)]
        room = room_for_a_measurement(checks, states)
        budget = Budget.resumable(round_seconds, run_left=3600, room=room, end="max_duration reached", clock=clock)
        outcome = run(checks, budget, hook=HOOK, resume=states)
        outcomes.append(outcome)
        if not outcome.in_progress:
            return outcomes, taken, clock
        # Between rounds nothing runs: the next invocation comes when the paused check is due.
        assert outcome.next_due is not None
        clock.advance(max(outcome.next_due - clock.time(), 0.0))
        states = dict(outcome.states)
    raise AssertionError(f"no verdict after {limit} rounds")


@pytest.mark.parametrize(
    ("pattern", "failure_limit", "verdict"),
    [
        ("PPPF", 10, Verdict.PASSED),
        ("PPPF", 6, Verdict.FAILED),
        ("PPPPPPPPPPEEP", 0, Verdict.ERROR),
        ("PPE", 0, Verdict.PASSED),
    ],
)
def test_engine_run_split_over_rounds_equals_one_uninterrupted_run(
    pattern: str, failure_limit: int, verdict: Verdict
) -> None:
    # GIVEN a check of 30 measurements 2 s apart, each taking 0.4 s, whose outcomes follow a fixed pattern
    policy = Policy(count=30, interval=2.0, timeout=1.0, failure_limit=failure_limit, consecutive_error_limit=1)
    # WHEN it runs in one round of an hour, and again in rounds of 9 s resumed from the paused states
    clock, taken = ManualClock(), []
    whole = run([PatternCheck("c", policy, pattern, clock, taken)], Budget.once(3600, clock=clock), hook=HOOK)
    rounds, split_taken, split_clock = _rounds(policy, pattern, round_seconds=9.0)
    # THEN both reach the same verdict, reason and tally, the split run over several paused rounds
    split = rounds[-1]
    assert (split.result.verdict, split.result.succeeded) == (whole.result.verdict, whole.result.succeeded)
    assert split.result.verdict is verdict
    assert split.result.reason == whole.result.reason
    assert split.result.checks[0].tally == whole.result.checks[0].tally
    tally = whole.result.checks[0].tally
    assert tally is not None and len(split_taken) == len(taken) == tally.taken
    assert len(rounds) >= 3
    assert all(r.in_progress and r.result.checks[0].paused for r in rounds[:-1])
    # AND the paused rounds told when to come back: the time of the next measurement, on the interval
    assert all(r.next_due is not None for r in rounds[:-1])
    # AND the measurements kept their 2 s spacing across rounds, so the split run took as long on the clock
    assert split_clock.time() - ManualClock().time() == pytest.approx(clock.time() - ManualClock().time(), abs=2.0)
    print(f"{pattern}/{failure_limit}: {len(rounds)} rounds, tally {split.result.checks[0].tally}")


def test_engine_round_past_the_runs_end_decides_from_states_without_measuring() -> None:
    # GIVEN two checks resumed from earlier rounds (one passing so far, one that has failed once), and no time left
    clock, taken = ManualClock(), []
    policy = Policy(count=10, interval=1.0, failure_limit=3)
    checks = [PatternCheck("ok", policy, "P", clock, taken), PatternCheck("shaky", policy, "F", clock, taken)]
    resume = {
        "ok": CheckState(Tally.of([Status.PASS] * 3), clock.time()),
        "shaky": CheckState(Tally.of([Status.FAIL]), clock.time(), "status 503"),
    }
    budget = Budget(Deadline.after(0, clock), end="max_duration 60s reached")
    # WHEN the round runs
    outcome = run(checks, budget, hook=HOOK, resume=resume)
    # THEN nothing is measured; each check is cut short by the run's end, named, from its tally
    assert taken == []
    ok, shaky = outcome.result.checks
    assert (ok.status, ok.reason) == (Status.INCONCLUSIVE, "max_duration 60s reached after 3 of 10 measurements")
    assert shaky.status is Status.FAIL
    assert shaky.reason == "max_duration 60s reached after 1 of 10 measurements, none of which passed; last: status 503"
    assert not outcome.in_progress
    assert outcome.result.verdict is Verdict.FAILED


def test_engine_room_for_a_measurement_counts_only_undecided_checks() -> None:
    # GIVEN a decided check with a long timeout, and an undecided one
    clock, taken = ManualClock(), []
    done = PatternCheck("done", Policy(count=2, timeout=30.0), "P", clock, taken)
    going = PatternCheck("going", Policy(count=5, timeout=4.0), "P", clock, taken)
    states = {"done": CheckState(Tally.of([Status.PASS] * 2)), "going": CheckState(Tally.of([Status.PASS]))}
    # WHEN the room a round needs is asked for
    # THEN only the undecided check's timeout counts, plus the runner's grace; nothing undecided needs none
    assert room_for_a_measurement([done, going], states) == 4.0 + GRACE
    assert room_for_a_measurement([done], states) == 0.0
    assert room_for_a_measurement([done, going]) == 30.0 + GRACE


def test_engine_resumed_progress_beyond_count_is_an_error_never_a_verdict() -> None:
    # GIVEN progress carried between invocations (ECS hookDetails, a durable checkpoint) claiming more passing
    # measurements than the check's count: something this spec could not have written
    calls: list[int] = []

    def measure() -> Measurement:
        calls.append(1)
        return passed()

    checks = [FnCheck("health", Policy(count=3), measure)]
    forged = {"health": CheckState(Tally(taken=4, passes=4, pass_run=4), 0.0)}
    # WHEN the run resumes from it
    (result,) = run_checks(checks, ctx(), resume=forged)
    # THEN the check is an ERROR saying why, and nothing was measured
    assert result.status is Status.ERROR
    assert result.reason.startswith("resumed progress says 4 measurements, more than count 3")
    assert calls == []
