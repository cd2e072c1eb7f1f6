"""The verdict rules of engine/policy.py: every limit, early stop, dry run, deadline and precedence rule."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenlight.engine.model import CheckResult, Status, Verdict
from greenlight.engine.policy import Policy, combine, cut_short, decide

P, F, E = Status.PASS, Status.FAIL, Status.ERROR


def _statuses(code: str) -> list[Status]:
    return [{"P": P, "F": F, "E": E}[c] for c in code]


def _result(name: str, status: Status, *, dry_run: bool = False, reason: str = "") -> CheckResult:
    return CheckResult(name, "http", status, reason or f"{name} said {status.value}", (), dry_run)


# --- decide: one check from its measurements ----------------------------------------------------------

DECIDE_CASES: list[tuple[str, str, dict[str, Any], Status | None, str]] = [
    # (id, measurements, policy, expected status (None: keep measuring), words in the reason)
    ("nothing-yet", "", {"count": 3}, None, ""),
    ("one-pass", "P", {"count": 1}, P, "1 of 1 passed (0 failed, 0 errors)"),
    ("pass-not-yet-certain", "PP", {"count": 3}, None, ""),
    ("all-pass", "PPP", {"count": 3}, P, "3 of 3 passed"),
    ("one-fail-no-tolerance", "F", {"count": 5}, F, "1 failed measurement(s), more than failure_limit 0"),
    ("fail-within-limit", "F", {"count": 3, "failure_limit": 1}, None, ""),
    ("fails-over-limit", "PFF", {"count": 5, "failure_limit": 1}, F, "2 failed measurement(s), more than"),
    ("fail-tolerated-passes", "PFP", {"count": 3, "failure_limit": 1}, P, "2 of 3 passed (1 failed, 0 errors)"),
    ("error-then-pass", "EP", {"count": 2}, P, "1 of 2 passed (0 failed, 1 errors)"),
    ("errors-within-limit", "EE", {"count": 5, "consecutive_error_limit": 2}, None, ""),
    ("errors-over-limit", "EEE", {"count": 5, "consecutive_error_limit": 2}, E, "3 consecutive errors, more than"),
    ("errors-not-consecutive", "EEPEE", {"count": 10, "consecutive_error_limit": 2}, None, ""),
    ("errors-run-again", "EEPEEE", {"count": 10, "consecutive_error_limit": 2}, E, "consecutive_error_limit 2"),
    ("zero-error-limit", "E", {"count": 5, "consecutive_error_limit": 0}, E, "1 consecutive errors"),
    ("fail-beats-error", "FEE", {"count": 5, "consecutive_error_limit": 1}, F, "more than failure_limit 0"),
    # A check whose measurements hold no PASS never passes, whatever its limits tolerate.
    ("only-errors", "EEE", {"count": 3, "consecutive_error_limit": 10}, E, "no measurement succeeded (3 errors)"),
    ("only-fails-tolerated", "FF", {"count": 2, "failure_limit": 5}, F, "no measurement passed (2 failed, 0 errors)"),
    ("fails-and-errors", "EF", {"count": 2, "failure_limit": 1}, F, "no measurement passed (1 failed, 1 errors)"),
    # consecutive_successes ends the check early either way.
    ("successes-reached", "PP", {"count": 5, "consecutive_successes": 2}, P, "2 consecutive successes (needed 2)"),
    ("successes-after-fail", "FPP", {"count": 5, "failure_limit": 1, "consecutive_successes": 2}, P, "needed 2"),
    ("successes-pending", "P", {"count": 5, "consecutive_successes": 2}, None, ""),
    ("successes-still-reachable", "PPE", {"count": 5, "consecutive_successes": 2}, None, ""),
    (
        "successes-unreachable-errors",
        "PPE",
        {"count": 4, "consecutive_successes": 3},
        E,
        "cannot reach 3 consecutive successes with 1 of 4 measurements left",
    ),
    (
        "successes-unreachable-fails",
        "PFP",
        {"count": 4, "failure_limit": 1, "consecutive_successes": 3},
        F,
        "cannot reach 3 consecutive successes",
    ),
    ("successes-more-than-count", "PP", {"count": 2, "consecutive_successes": 3}, E, "cannot reach 3"),
    # dry_run changes what is reported, never what a check came to.
    ("dry-run-still-fails", "F", {"count": 3, "dry_run": True}, F, "more than failure_limit 0"),
]


@pytest.mark.parametrize(
    ("measured", "policy", "expected", "words"), [c[1:] for c in DECIDE_CASES], ids=[c[0] for c in DECIDE_CASES]
)
def test_decide_table(measured: str, policy: dict[str, Any], expected: Status | None, words: str) -> None:
    # GIVEN measurements so far and a policy
    statuses = _statuses(measured)
    # WHEN the check is decided
    decision = decide(statuses, Policy(**policy))
    # THEN it is final exactly when the outcome is certain, with a reason that says why
    assert decision.status is expected
    assert decision.final is (expected is not None)
    assert words in decision.reason


def test_decide_early_stop_on_failure_limit_before_count() -> None:
    # GIVEN a check of 10 measurements tolerating one failure
    policy = Policy(count=10, failure_limit=1)
    # WHEN the second failure arrives after only three measurements
    decision = decide(_statuses("FPF"), policy)
    # THEN the check is certain to fail and needs no more measurements
    assert decision.status is F
    assert decision.final


# --- cut_short: a check stopped by the deadline or by another check's failure ---------------------------

CUT_CASES: list[tuple[str, str, dict[str, Any], Status, str]] = [
    # Nothing measured (no time was left): no evidence, so ERROR, never INCONCLUSIVE.
    ("no-measurement", "", {"count": 3}, E, "deadline reached before any of 3 measurements: nothing was measured"),
    ("passing-so-far", "PP", {"count": 5}, Status.INCONCLUSIVE, "deadline reached after 2 of 5 measurements"),
    # Nothing passed before the stop: never INCONCLUSIVE, which on_inconclusive: pass would let through.
    ("tolerated-errors-no-pass", "EE", {"count": 5}, E, "after 2 of 5 measurements, none of which passed"),
    ("tolerated-failure-no-pass", "F", {"count": 5, "failure_limit": 1}, F, "none of which passed"),
    ("errors-then-a-pass", "EEP", {"count": 5}, Status.INCONCLUSIVE, "after 3 of 5 measurements"),
    ("already-failed", "FF", {"count": 5, "failure_limit": 1}, F, "2 failed measurement(s)"),
    ("already-errored", "EEE", {"count": 9, "consecutive_error_limit": 2}, E, "3 consecutive errors"),
    ("already-complete", "P", {"count": 1}, P, "1 of 1 passed"),
    ("successes-reached", "PP", {"count": 9, "consecutive_successes": 2}, P, "2 consecutive successes"),
]


@pytest.mark.parametrize(
    ("measured", "policy", "expected", "words"), [c[1:] for c in CUT_CASES], ids=[c[0] for c in CUT_CASES]
)
def test_cut_short_table(measured: str, policy: dict[str, Any], expected: Status, words: str) -> None:
    # GIVEN a check stopped by the deadline
    statuses = _statuses(measured)
    # WHEN it is decided as cut short
    decision = cut_short(statuses, Policy(**policy), "deadline reached")
    # THEN a certain outcome stands, and an uncertain one is INCONCLUSIVE (never a pass)
    assert decision.status is expected
    assert words in decision.reason


def test_cut_short_stopped_by_another_check_stays_inconclusive_with_nothing_passed() -> None:
    # GIVEN a check still tolerating failures (waiting for green to become healthy)
    policy = Policy(count=20, failure_limit=19)
    # WHEN another check fails the run and stops it after one failed measurement
    decision = cut_short([F], policy, "stopped early: check 'health' FAIL", by_deadline=False)
    # THEN it is not blamed for the failure: INCONCLUSIVE, not FAIL
    assert decision.status is Status.INCONCLUSIVE
    assert decision.reason == "stopped early: check 'health' FAIL after 1 of 20 measurements"


def test_cut_short_reason_names_why() -> None:
    # GIVEN a check stopped because another check failed
    # WHEN it is decided as cut short
    decision = cut_short(_statuses("P"), Policy(count=4), "stopped early: check 'health' FAIL")
    # THEN the reason says who stopped it
    assert decision.status is Status.INCONCLUSIVE
    assert decision.reason == "stopped early: check 'health' FAIL after 1 of 4 measurements"


# --- combine: the run verdict from check outcomes ------------------------------------------------------

_VERDICT = {
    P: Verdict.PASSED,
    Status.INCONCLUSIVE: Verdict.INCONCLUSIVE,
    E: Verdict.ERROR,
    F: Verdict.FAILED,
}
_ALL = (P, Status.INCONCLUSIVE, E, F)


def test_combine_no_checks_passes() -> None:
    # GIVEN a hook with no checks configured
    # WHEN the run is decided
    decision = combine([])
    # THEN it passes and says why
    assert decision.verdict is Verdict.PASSED
    assert decision.succeeded
    assert decision.reason == "no checks configured for this hook"


def test_combine_all_pass() -> None:
    # GIVEN two passing checks
    # WHEN the run is decided
    decision = combine([_result("a", P), _result("b", P)])
    # THEN the run passes and is reported Succeeded
    assert (decision.verdict, decision.succeeded, decision.reason) == (Verdict.PASSED, True, "all 2 check(s) passed")


@pytest.mark.parametrize(("first", "second"), list(itertools.product(_ALL, repeat=2)))
def test_combine_precedence_failed_error_inconclusive_passed(first: Status, second: Status) -> None:
    # GIVEN two checks with any pair of outcomes
    results = [_result("a", first), _result("b", second)]
    # WHEN the run is decided
    decision = combine(results)
    # THEN the worst outcome wins (FAILED > ERROR > INCONCLUSIVE > PASSED) and only PASSED succeeds
    worst = max(_VERDICT[first], _VERDICT[second], key=lambda v: v.rank)
    assert decision.verdict is worst
    assert decision.succeeded is (worst is Verdict.PASSED)


def test_combine_reason_names_only_the_worst_checks() -> None:
    # GIVEN a failed, an errored, and an inconclusive check
    results = [
        _result("slow", Status.INCONCLUSIVE, reason="deadline reached"),
        _result("health", F, reason="status 500, expected 200"),
        _result("metrics", E, reason="AccessDenied"),
        _result("home", F, reason="body does not contain 'ok'"),
    ]
    # WHEN the run is decided
    decision = combine(results)
    # THEN the reason lists the failed checks with their reasons, and not the lesser ones
    assert decision.reason == "FAILED: health: status 500, expected 200; home: body does not contain 'ok'"


def test_combine_inconclusive_fails_closed_by_default() -> None:
    # GIVEN a check the deadline cut short
    # WHEN the run is decided with the default policy
    decision = combine([_result("a", P), _result("b", Status.INCONCLUSIVE)])
    # THEN the run is INCONCLUSIVE and reported Failed
    assert decision.verdict is Verdict.INCONCLUSIVE
    assert not decision.succeeded


def test_combine_on_inconclusive_pass_succeeds() -> None:
    # GIVEN a check the deadline cut short, and on_inconclusive: pass
    # WHEN the run is decided
    decision = combine([_result("a", Status.INCONCLUSIVE)], inconclusive_passes=True)
    # THEN the verdict stays INCONCLUSIVE but the hook is reported Succeeded, and the reason says why
    assert decision.verdict is Verdict.INCONCLUSIVE
    assert decision.succeeded
    assert decision.reason.endswith("(on_inconclusive: pass)")


@pytest.mark.parametrize("worse", [F, E])
def test_combine_on_inconclusive_pass_does_not_pass_worse(worse: Status) -> None:
    # GIVEN an inconclusive check and a failed or errored one, with on_inconclusive: pass
    # WHEN the run is decided
    decision = combine([_result("a", Status.INCONCLUSIVE), _result("b", worse)], inconclusive_passes=True)
    # THEN the worse outcome still reports Failed
    assert decision.verdict is _VERDICT[worse]
    assert not decision.succeeded


@pytest.mark.parametrize("status", [F, E, Status.INCONCLUSIVE])
def test_combine_dry_run_check_never_fails_the_run(status: Status) -> None:
    # GIVEN a dry-run check that did not pass, beside a passing check
    results = [_result("real", P), _result("trial", status, dry_run=True, reason="bad")]
    # WHEN the run is decided
    decision = combine(results)
    # THEN the run passes and the reason says what would have failed
    assert decision.verdict is Verdict.PASSED
    assert decision.succeeded
    assert f"dry run, would have failed: trial ({status.value}: bad)" in decision.reason


def test_combine_dry_run_check_does_not_hide_a_real_failure() -> None:
    # GIVEN a failing dry-run check and a failing real one
    results = [_result("trial", F, dry_run=True), _result("real", F, reason="status 500")]
    # WHEN the run is decided
    decision = combine(results)
    # THEN the real failure fails the run, and the reason names only it
    assert decision.verdict is Verdict.FAILED
    assert not decision.succeeded
    assert decision.reason == "FAILED: real: status 500"


@pytest.mark.parametrize("status", [F, E, Status.INCONCLUSIVE])
def test_combine_dry_run_per_run_reports_success(status: Status) -> None:
    # GIVEN a run in dry-run mode with a check that did not pass
    # WHEN the run is decided
    decision = combine([_result("a", status)], dry_run=True)
    # THEN the verdict is kept, the hook is reported Succeeded, and the reason says it would have failed
    assert decision.verdict is _VERDICT[status]
    assert decision.succeeded
    assert decision.reason.startswith(f"dry run, would have reported Failed: {_VERDICT[status].value}: a:")


def test_verdict_rank_orders_best_to_worst() -> None:
    # GIVEN the verdicts
    # WHEN they are sorted by rank
    ordered = sorted(Verdict, key=lambda v: v.rank)
    # THEN FAILED is worst and PASSED best
    assert ordered == [Verdict.PASSED, Verdict.INCONCLUSIVE, Verdict.ERROR, Verdict.FAILED]


# --- properties -----------------------------------------------------------------------------------------

status_lists = st.lists(st.sampled_from([P, F, E]), max_size=12)
policies = st.builds(
    Policy,
    count=st.integers(min_value=1, max_value=12),
    failure_limit=st.integers(min_value=0, max_value=5),
    consecutive_error_limit=st.integers(min_value=0, max_value=5),
    consecutive_successes=st.one_of(st.none(), st.integers(min_value=1, max_value=6)),
    dry_run=st.booleans(),
)


@given(status_lists, policies)
def test_decide_property_no_pass_never_passes(statuses: list[Status], policy: Policy) -> None:
    # GIVEN any measurements that hold no PASS, under any policy
    without_pass = [s for s in statuses if s is not P]
    # WHEN the check is decided, completely or cut short
    # THEN it never passes
    assert decide(without_pass, policy).status is not P
    assert cut_short(without_pass, policy, "deadline reached").status is not P


@given(status_lists, policies)
def test_decide_property_final_once_count_is_reached(statuses: list[Status], policy: Policy) -> None:
    # GIVEN exactly `count` measurements
    taken = (statuses * policy.count)[: policy.count] or [E] * policy.count
    # WHEN the check is decided
    decision = decide(taken, policy)
    # THEN the outcome is final (a check never asks for more than `count` measurements)
    assert decision.final
    assert decision.status in (P, F, E)


@given(status_lists, policies)
def test_cut_short_property_never_keeps_going(statuses: list[Status], policy: Policy) -> None:
    # GIVEN any measurements of a check that was stopped
    # WHEN it is decided as cut short
    decision = cut_short(statuses, policy, "deadline reached")
    # THEN there is always an outcome, and INCONCLUSIVE only when decide() was not yet certain
    assert decision.final
    if decision.status is Status.INCONCLUSIVE:
        assert not decide(statuses, policy).final


@given(
    st.lists(st.tuples(st.sampled_from(_ALL), st.booleans()), max_size=6),
    st.booleans(),
    st.booleans(),
)
def test_combine_property_fail_closed(outcomes: list[tuple[Status, bool]], dry_run: bool, inconclusive: bool) -> None:
    # GIVEN any check outcomes, some of them dry-run checks
    results = [_result(f"c{i}", s, dry_run=d) for i, (s, d) in enumerate(outcomes)]
    # WHEN the run is decided
    decision = combine(results, dry_run=dry_run, inconclusive_passes=inconclusive)
    # THEN the verdict is the worst real outcome (in a dry run, the worst of all: what would fail), and
    #      success is reported only when allowed
    real = [_VERDICT[s] for s, d in outcomes if not d or dry_run]
    assert decision.verdict is max(real, key=lambda v: v.rank, default=Verdict.PASSED)
    allowed = (
        decision.verdict is Verdict.PASSED or dry_run or (decision.verdict is Verdict.INCONCLUSIVE and inconclusive)
    )
    assert decision.succeeded is allowed
