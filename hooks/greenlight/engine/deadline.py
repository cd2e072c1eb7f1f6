"""Wall-clock deadlines: every run and every measurement is bounded by one."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from greenlight.engine.clock import SYSTEM, Clock


@dataclass(frozen=True)
class Deadline:
    """A point in monotonic time after which no more work may start."""

    at: float
    clock: Clock = field(default=SYSTEM, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, clock: Clock = SYSTEM) -> Deadline:
        """`seconds` from now; ValueError unless it is a finite number (a NaN deadline never expires)."""
        if not math.isfinite(seconds):
            raise ValueError(f"a deadline must be a finite number of seconds, got {seconds!r}")
        return cls(clock.monotonic() + seconds, clock)

    def remaining(self) -> float:
        return max(self.at - self.clock.monotonic(), 0.0)

    def expired(self) -> bool:
        return self.clock.monotonic() >= self.at

    def bound(self, seconds: float) -> float:
        """The smaller of `seconds` and the time left."""
        return min(seconds, self.remaining())
