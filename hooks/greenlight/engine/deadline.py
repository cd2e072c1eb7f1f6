"""Wall-clock deadlines: every run and every measurement is bounded by one."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from greenlight.engine.clock import SYSTEM, Clock

# The longest deadline: every wait on one must fit in a thread's timeout (threading.TIMEOUT_MAX is platform's).
MAX_SECONDS = min(1e9, threading.TIMEOUT_MAX)


@dataclass(frozen=True)
class Deadline:
    """A point in monotonic time after which no more work may start."""

    at: float
    clock: Clock = field(default=SYSTEM, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, clock: Clock = SYSTEM) -> Deadline:
        """`seconds` from now; ValueError unless it is a finite number (a NaN deadline never expires) of at most
        MAX_SECONDS (a longer wait overflows a thread's timeout)."""
        if not math.isfinite(seconds) or seconds > MAX_SECONDS:
            raise ValueError(f"a deadline must be a finite number of seconds up to {MAX_SECONDS:g}, got {seconds!r}")
        return cls(clock.monotonic() + seconds, clock)

    def remaining(self) -> float:
        return max(self.at - self.clock.monotonic(), 0.0)

    def expired(self) -> bool:
        return self.clock.monotonic() >= self.at

    def bound(self, seconds: float) -> float:
        """The smaller of `seconds` and the time left."""
        return min(seconds, self.remaining())
