"""The engine's one source of time: wall clock, monotonic clock and waiting, so tests can pass a clock of their own.

A run resumed over several invocations measures its budget in monotonic time and remembers when each check
measures next in epoch seconds (they outlive the process); both, and every wait between measurements, go
through a Clock, so a split run can be replayed with a clock that only moves when told to.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Where the engine reads time and how it waits."""

    def time(self) -> float:
        """Epoch seconds (what outlives an invocation: when a paused check measures next)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (what deadlines are measured in)."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait up to `seconds` for `event`; True when it was set."""
        ...


class SystemClock:
    """The real clocks, and a real wait."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(seconds, 0.0))


SYSTEM: Clock = SystemClock()
