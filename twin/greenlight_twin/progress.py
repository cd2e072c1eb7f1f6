"""What the twin tells while it plays a deployment: events, a recorder that keeps them, and a console view.

Every step of a deployment is an `Event` handed to a progress function (`ProgressFn`); the console
view prints them as they come. The checks' results and verdicts come from the hook function itself,
read from its log's structured events (greenlight_twin.hooklog).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["ConsoleProgress", "Event", "ProgressFn", "Recorder", "invocations"]

# Event kinds, in roughly the order a deployment produces them.
DEPLOYMENT = "deployment"  # created, with what goes from which version to which
STEP = "step"  # a lifecycle event or stage the controller does itself (Install, SCALE_UP, ...)
TASK = "task"  # a green or blue task started or stopped
TRAFFIC = "traffic"  # a listener's forward weights changed
HEALTH = "health"  # a target's health changed in the load balancer
HOOK = "hook"  # a hook function invoked, and what it came to
INVOCATION = "invocation"  # one invocation: the event sent and the answer (data only; the console skips it)
CHECK = "check"  # one check's result, from the hook's log events
VERDICT = "verdict"  # the hook's verdict, from its log events
LOG = "log"  # an error or warning line of the hook's log
ROLLBACK = "rollback"
OUTCOME = "outcome"  # the deployment's end


@dataclass(frozen=True)
class Event:
    """One thing that happened, `at` seconds after the deployment started."""

    kind: str
    message: str
    at: float = 0.0
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "at": round(self.at, 3), "data": _plain(self.data)}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Event:
        return cls(
            kind=str(value.get("kind", LOG)),
            message=str(value.get("message", "")),
            at=float(value.get("at", 0.0)),
            data=dict(value.get("data") or {}),
        )


ProgressFn = Callable[[Event], None]


def _plain(value: Any) -> Any:
    """JSON-safe copy (paths and other objects as text)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def invocations(events: Iterator[Event] | list[Event] | tuple[Event, ...]) -> list[dict[str, Any]]:
    """Every hook invocation of a deployment: {function, hook, event, answer, status} (and rollback, step)."""
    keys = ("function", "hook", "event", "answer", "status", "rollback", "step")
    return [{k: _plain(e.data.get(k)) for k in keys if k in e.data} for e in events if e.kind == INVOCATION]


# --- collecting and showing ----------------------------------------------------------------------------


class Recorder:
    """Keeps every event and passes it on to the next progress function (if any)."""

    def __init__(self, forward: ProgressFn | None = None) -> None:
        self.forward = forward
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
        if self.forward is not None:
            self.forward(event)

    def of_kind(self, kind: str) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.kind == kind]

    def __iter__(self) -> Iterator[Event]:
        with self._lock:
            return iter(list(self.events))


class ConsoleProgress:
    """Prints events as `[  3.2s] message`, checks and verdicts indented under their hook.

    `verbose` also shows each measurement of a check and every health change; without it, health
    changes of targets that are not green's are left out.
    """

    _INDENTED = frozenset({CHECK, VERDICT, LOG})

    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False, color: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.verbose = verbose
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.color = isatty() if color is None else color
        self._lock = threading.Lock()

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def _status_color(self, text: str) -> str:
        for word, code in (
            ("FAIL", "31"),
            ("ERROR", "31"),
            ("Failed", "31"),
            ("ROLLBACK", "33"),
            ("rolled back", "33"),
            ("INCONCLUSIVE", "33"),
            ("PASS", "32"),
            ("Succeeded", "32"),
            ("SUCCEEDED", "32"),
            ("SUCCESSFUL", "32"),
        ):
            if word in text:
                return self._paint(text, code)
        return text

    def __call__(self, event: Event) -> None:
        if event.kind == INVOCATION or (event.kind == HEALTH and not self.verbose and not event.data.get("green")):
            return
        indent = "    " if event.kind in self._INDENTED else ""
        text = event.message
        if event.kind in (CHECK, VERDICT, OUTCOME, HOOK, ROLLBACK):
            text = self._status_color(text)
        lines = [f"[{event.at:6.1f}s] {indent}{text}"]
        if self.verbose and event.kind == CHECK:
            for index, measurement in enumerate((event.data.get("check") or {}).get("measurements") or [], 1):
                lines.append(
                    f"{'':10}{indent}  #{index} {measurement.get('status')} {measurement.get('reason', '')}"
                    f" ({measurement.get('duration_ms', 0):.0f} ms)"
                )
        with self._lock:
            print("\n".join(lines), file=self.stream, flush=True)
