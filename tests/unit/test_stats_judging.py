"""The judging `compare` and `metric_compare` share: each metric's outcome, the combined outcome and score, and
how an outcome becomes the engine's measurement."""

from __future__ import annotations

import pytest

from greenlight.checks.compare import (
    FAIL,
    MARGINAL,
    NODATA,
    PASS,
    Judgement,
    combine,
    judge_errors,
    judge_latency,
    measurement,
)
from greenlight.engine.model import Status

SLOW = [100.0 + i for i in range(20)]
FAST = [10.0 + i for i in range(20)]
LATENCY = {"alpha": 0.05, "max_increase_pct": 10.0, "max_increase_ms": 5.0, "min_samples": 10}
ERRORS = {"alpha": 0.05, "max_increase": 0.0, "min_samples": 10}


def test_judge_latency_outcomes() -> None:
    # significantly slower, beyond the tolerance
    assert judge_latency(SLOW, FAST, **LATENCY).outcome == FAIL
    # significantly slower, within a 200 ms tolerance
    assert judge_latency(SLOW, FAST, **{**LATENCY, "max_increase_ms": 200.0}).outcome == MARGINAL
    # faster, or the same
    assert judge_latency(FAST, SLOW, **LATENCY).outcome == PASS
    assert judge_latency(FAST, FAST, **LATENCY).outcome == PASS
    # too few values on a side
    nodata = judge_latency(SLOW[:5], FAST, **LATENCY)
    assert nodata.outcome == NODATA and "fewer than min_samples 10" in nodata.reason


def test_judge_latency_large_but_not_significant_difference_passes() -> None:
    # GIVEN 3 values a side, whose exact Mann-Whitney p is at best 1/20: never below alpha 0.05
    judged = judge_latency([500.0, 510.0, 520.0], [1.0, 2.0, 3.0], **{**LATENCY, "min_samples": 3})
    # THEN the check does not guess: PASS, with p shown
    assert judged.outcome == PASS and judged.details["p"] == pytest.approx(0.05)


def test_judge_latency_zero_median_blue_shows_the_change_in_ms() -> None:
    judged = judge_latency([9.0] * 12, [0.0] * 12, **LATENCY)
    assert judged.outcome == FAIL and "+9ms" in judged.reason


def test_judge_errors_outcomes() -> None:
    assert judge_errors(10, 50, 0, 50, **ERRORS).outcome == FAIL
    assert judge_errors(10, 50, 0, 50, **{**ERRORS, "max_increase": 0.5}).outcome == MARGINAL
    assert judge_errors(1, 50, 0, 50, **ERRORS).outcome == PASS
    assert judge_errors(0, 5, 0, 50, **ERRORS).outcome == NODATA
    # too little of blue to compare with: NODATA, unless green alone already errs beyond max_increase
    assert judge_errors(0, 50, 0, 5, **ERRORS).outcome == NODATA
    assert judge_errors(50, 50, 0, 5, **ERRORS).outcome == FAIL
    assert judge_errors(5, 50, 0, 5, **{**ERRORS, "max_increase": 0.2}).outcome == NODATA


@pytest.mark.parametrize(
    ("outcomes", "outcome", "score"),
    [
        ((PASS, PASS), PASS, 100.0),
        ((MARGINAL, PASS), MARGINAL, 75.0),
        ((FAIL, PASS), FAIL, 50.0),
        ((FAIL, NODATA), FAIL, 0.0),
        ((NODATA, MARGINAL), NODATA, 50.0),
        ((NODATA, NODATA), NODATA, None),
    ],
)
def test_combine_outcome_and_score(outcomes: tuple[str, str], outcome: str, score: float | None) -> None:
    combined = combine([Judgement(f"m{i}", o, f"m{i} {o}") for i, o in enumerate(outcomes)])
    assert combined.outcome == outcome and combined.score == score


@pytest.mark.parametrize(
    ("outcome", "marginal", "on_no_data", "status"),
    [
        (PASS, "pass", "error", Status.PASS),
        (MARGINAL, "pass", "error", Status.PASS),
        (MARGINAL, "fail", "error", Status.FAIL),
        (FAIL, "pass", "pass", Status.FAIL),
        (NODATA, "pass", "error", Status.ERROR),
        (NODATA, "pass", "pass", Status.PASS),
        (NODATA, "fail", "fail", Status.FAIL),
    ],
)
def test_measurement_maps_outcomes_onto_statuses(outcome: str, marginal: str, on_no_data: str, status: Status) -> None:
    m = measurement(
        combine([Judgement("latency", outcome, "latency: seen")]), {"marginal": marginal, "on_no_data": on_no_data}, {}
    )
    assert m.status is status
    assert m.details["outcome"] == outcome and m.details["metrics"]["latency"]["outcome"] == outcome
