"""Clocks for tests of split and resumed runs: time that moves only when told to, or the real one shifted.

`ManualClock` never sleeps: a wait moves it forward by what was asked (or not at all when the event is
already set), so a run of many measurements and intervals takes no wall time and the same path every time.
`LambdaContextOn` gives a handler a Lambda context whose remaining time counts down on such a clock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from greenlight.engine.clock import Clock
from support.lambda_context import FakeLambdaContext


class ManualClock:
    """A clock for one thread of measurements at a time: it moves on `advance` and on every wait."""

    def __init__(self, epoch: float = 1_767_225_600.0) -> None:
        self._epoch = epoch
        self._monotonic = 1000.0
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds of waiting the engine asked for

    def time(self) -> float:
        with self._lock:
            return self._epoch

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._epoch += seconds
            self._monotonic += seconds

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        if seconds > 0:
            self.advance(seconds)
            with self._lock:
                self.waited += seconds
        return event.is_set()


class ShiftedClock:
    """The real clock, its epoch time moved by `offset` seconds (an invocation that comes later than it did)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(seconds, 0.0))


@dataclass
class LambdaContextOn(FakeLambdaContext):
    """A Lambda context whose remaining time counts down on `clock` instead of the real one."""

    clock: Clock | None = None
    _from: float = field(default=0.0)

    def __post_init__(self) -> None:
        assert self.clock is not None
        self._from = self.clock.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        assert self.clock is not None
        return max(int(self.remaining_ms - (self.clock.monotonic() - self._from) * 1000), 0)
