"""Every number that bounds time is finite, or refused naming where it came from (property-based).

A NaN compares false with everything, so `if left <= reserve` lets it through and the run has no bound; an
infinite value never ends, and a huge one overflows the waits. Each way a time enters greenlight is fuzzed here:
the function's GREENLIGHT_REPORT_RESERVE, the command line's --deadline, the time a Lambda context says is
left, and the engine's own deadlines.
"""

from __future__ import annotations

import argparse
import math
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenlight.engine.deadline import MAX_SECONDS, Deadline
from greenlight.handlers.inputs import Settings, SettingsError, remaining_seconds
from greenlight.plan import TimeLeft
from greenlight_cli.check import MAX_DEADLINE, seconds

number_texts = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers().map(str),
    st.sampled_from(["nan", "-nan", "NaN", "inf", "+inf", "-Infinity", "1e308", "1e309", "1_000", " 5 ", "0x10", ""]),
    st.text(max_size=10),
)


@given(number_texts)
def test_time_report_reserve_from_the_environment_is_finite_or_refused(raw: str) -> None:
    # GIVEN any GREENLIGHT_REPORT_RESERVE
    env = {"GREENLIGHT_REPORT_RESERVE": raw}
    # WHEN the function's settings are read
    try:
        settings = Settings.from_env(env)
    except SettingsError as exc:
        # THEN either it is refused, naming the variable and the value ...
        assert "GREENLIGHT_REPORT_RESERVE" in str(exc) and repr(raw) in str(exc)
        return
    # ... or it is a finite number of seconds >= 0 (or unset, when empty)
    assert settings.reserve is None if raw == "" else (math.isfinite(settings.reserve) and settings.reserve >= 0)


@given(number_texts)
def test_time_cli_deadline_is_finite_and_in_range_or_refused(raw: str) -> None:
    # GIVEN any --deadline text, WHEN it is parsed
    try:
        value = seconds(raw)
    except argparse.ArgumentTypeError as exc:
        # THEN it is refused quoting the value ...
        assert repr(raw) in str(exc)
        return
    # ... or it is finite, above 0, at most MAX_DEADLINE
    assert math.isfinite(value) and 0 < value <= MAX_DEADLINE


class Context:
    def __init__(self, answer: object) -> None:
        self.answer = answer

    def get_remaining_time_in_millis(self) -> object:
        return self.answer


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.none(), st.text(max_size=5)))
def test_time_lambda_remaining_time_is_finite_and_never_negative(answer: object) -> None:
    # GIVEN whatever a context answers, WHEN the time left is read
    left = remaining_seconds(Context(answer))
    # THEN it is a finite number >= 0 (garbage counts as no time left)
    assert math.isfinite(left) and left >= 0


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_time_beyond_reserve_never_returns_a_non_finite_or_non_positive_budget(left: float, reserve: float) -> None:
    # GIVEN any time left and any reserve (as a caller might build them)
    time_left = TimeLeft(lambda: left, reserve)
    # WHEN the budget beyond the reserve is asked
    try:
        budget = time_left.beyond_reserve("now")
    except (TimeoutError, ValueError):
        return  # THEN no time (TimeoutError), or a non-finite input refused (ValueError) ...
    assert math.isfinite(budget) and budget > 0  # ... or a finite, positive budget


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_time_deadline_is_finite_and_fits_a_wait_or_refused(value: float) -> None:
    # GIVEN any number of seconds, WHEN a deadline is made of it
    if math.isfinite(value) and value <= MAX_SECONDS:
        # THEN it is finite, and waiting for what is left of it fits a thread's timeout
        deadline = Deadline.after(value)
        assert math.isfinite(deadline.at)
        assert deadline.remaining() <= threading.TIMEOUT_MAX
    else:
        # THEN NaN, infinities and waits too long for a thread are refused
        with pytest.raises(ValueError, match="finite number of seconds"):
            Deadline.after(value)
