"""What a hook handler reads besides its event: the function's settings, its time left, and the errors of both."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class InvalidEventError(ValueError):
    """The invocation event is not a lifecycle hook event; names every missing or malformed field."""


class SettingsError(ValueError):
    """The function's environment is misconfigured; names every bad variable."""


@dataclass(frozen=True)
class Settings:
    hook: str | None
    spec_location: str | None
    reserve: float | None  # GREENLIGHT_REPORT_RESERVE; None: the spec's settings.report_reserve
    log_event: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, allowed_hooks: tuple[str, ...] = ()) -> Settings:
        env = os.environ if env is None else env
        problems = []
        hook = env.get("GREENLIGHT_HOOK") or None
        if allowed_hooks and hook is not None and hook not in allowed_hooks:
            problems.append(f"GREENLIGHT_HOOK={hook!r} is not one of {', '.join(allowed_hooks)}")
        raw_reserve = env.get("GREENLIGHT_REPORT_RESERVE", "")
        reserve = None
        if raw_reserve:
            try:
                reserve = float(raw_reserve)
            except ValueError:
                reserve = math.nan
            # NaN compares false with everything and infinity never ends: both would leave the hook unbounded.
            if not math.isfinite(reserve) or reserve < 0:
                problems.append(
                    f"GREENLIGHT_REPORT_RESERVE={raw_reserve!r} is not a finite number of seconds >= 0 "
                    "(e.g. 15, or unset for the spec's settings.report_reserve)"
                )
                reserve = None
        if problems:
            raise SettingsError("; ".join(problems))
        return cls(
            hook=hook,
            spec_location=env.get("GREENLIGHT_SPEC") or None,
            reserve=reserve,
            log_event=env.get("GREENLIGHT_LOG_EVENT", "").lower() in ("1", "true", "yes"),
        )


def remaining_seconds(context: Any) -> float:
    """Time left in this Lambda invocation (15 minutes when there is no Lambda context, as in tests).

    A context that answers something that is not a finite number of milliseconds gives 0: nothing is
    validated, and the handler reports at once."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(getter):
        return 900.0
    try:
        seconds = float(getter()) / 1000.0
    except (TypeError, ValueError):
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0
