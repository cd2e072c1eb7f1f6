"""Wall-clock deadlines: every run and every measurement is bounded by one."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """A point in monotonic time after which no more work may start."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(self.at - time.monotonic(), 0.0)

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def bound(self, seconds: float) -> float:
        """The smaller of `seconds` and the time left."""
        return min(seconds, self.remaining())
