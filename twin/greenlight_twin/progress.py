"""What the twin tells while it plays a deployment: events, the hook functions' log lines, and a console view.

Every step of a deployment is an `Event` handed to a progress function (`ProgressFn`); the console
view prints them as they come. The checks' results come from the hook function itself: its log file
(what CloudWatch Logs would hold) is followed while it runs, and the Powertools JSON lines the
handlers write - `check <name>: <STATUS>` with a structured `check` field, and `verdict ...` - become
`check` and `verdict` events. Error lines (a report CodeDeploy refused, a crash) become `log` events.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "ConsoleProgress",
    "Event",
    "LogFollower",
    "ProgressFn",
    "Recorder",
    "check_summary",
    "parse_log_line",
]

# Event kinds, in roughly the order a deployment produces them.
DEPLOYMENT = "deployment"  # created, with what goes from which version to which
STEP = "step"  # a lifecycle event or stage the controller does itself (Install, SCALE_UP, ...)
TASK = "task"  # a green or blue task started or stopped
TRAFFIC = "traffic"  # a listener's forward weights changed
HEALTH = "health"  # a target's health changed in the load balancer
HOOK = "hook"  # a hook function invoked, and what it came to
CHECK = "check"  # one check's result, from the hook's log
VERDICT = "verdict"  # the hook's verdict, from its log
LOG = "log"  # an error or warning line of the hook's log
ROLLBACK = "rollback"
OUTCOME = "outcome"  # the deployment's end

_LEVELS_SHOWN = frozenset({"ERROR", "CRITICAL", "WARNING"})
# Warnings that are part of normal operation and would only clutter the view.
_QUIET_WARNINGS = ("already completed", "is ignored: an ECS hook runs")
_MAX_LINE = 64 * 1024


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


# --- the hook functions' log lines ---------------------------------------------------------------------


def parse_log_line(line: str) -> dict[str, Any] | None:
    """A Powertools JSON log record, or None for anything else (the emulator's own lines, tracebacks)."""
    text = line.strip()
    if not text.startswith("{") or len(text) > _MAX_LINE:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "message" in record else None


def check_summary(check: Mapping[str, Any]) -> str:
    """`PASS 5/5` style counts and the reason of a check result (`CheckResult.to_dict()`)."""
    counts = check.get("counts") or {}
    parts = [f"{counts[k]} {k.lower()}" for k in ("PASS", "FAIL", "ERROR") if counts.get(k)]
    taken = sum(int(counts.get(k) or 0) for k in ("PASS", "FAIL", "ERROR"))
    measured = f"{taken} measurement(s): {', '.join(parts)}" if parts else "no measurement"
    return f"{measured} - {check.get('reason', '')}".strip(" -")


def record_event(record: Mapping[str, Any], at: float, function: str) -> Event | None:
    """The event a log record stands for (a check, a verdict, an error), or None."""
    message = str(record.get("message", ""))
    level = str(record.get("level", "")).upper()
    check = record.get("check")
    if isinstance(check, Mapping) and message.startswith("check "):
        status = "paused" if check.get("paused") else check.get("status", "?")
        name = check.get("name", "?")
        kind = check.get("kind", "?")
        return Event(
            CHECK,
            f"check {name} ({kind}): {status} - {check_summary(check)}",
            at,
            {"function": function, "check": dict(check), "round": record.get("round")},
        )
    if "verdict" in record and message.startswith("verdict "):
        return Event(
            VERDICT,
            message,
            at,
            {"function": function, "verdict": record.get("verdict"), "succeeded": record.get("succeeded")},
        )
    if "verdict" in record:
        return None  # the ECS handler's final line repeats the verdict with its status
    if level in _LEVELS_SHOWN and not any(quiet in message for quiet in _QUIET_WARNINGS):
        detail = record.get("exception")
        data: dict[str, Any] = {"function": function, "level": level}
        if detail:
            data["exception"] = str(detail)[-2000:]
        return Event(LOG, f"{level.lower()}: {message}", at, data)
    return None


class LogFollower:
    """Follows a function's log file from an offset while it runs, turning its records into events.

    `poll()` reads what was written since the last call; `start()` runs it in a thread every
    `interval` until `stop()` (which reads once more, so nothing written before the stop is lost).
    """

    def __init__(
        self,
        path: Path,
        emit: ProgressFn,
        *,
        function: str,
        offset: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        started: float | None = None,
        interval: float = 0.2,
    ) -> None:
        self.path = Path(path)
        self.emit = emit
        self.function = function
        self.offset = self._size() if offset is None else offset
        self.clock = clock
        self.started = clock() if started is None else started
        self.interval = interval
        self.records: list[dict[str, Any]] = []
        self._partial = b""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def poll(self) -> list[dict[str, Any]]:
        with self._lock:
            try:
                with self.path.open("rb") as log:
                    log.seek(self.offset)
                    data = log.read()
            except OSError:
                return []
            self.offset += len(data)
            data = self._partial + data
            lines = data.split(b"\n")
            self._partial = lines.pop()  # an unfinished line waits for its end
            found = []
            for raw in lines:
                record = parse_log_line(raw.decode("utf-8", errors="replace"))
                if record is None:
                    continue
                found.append(record)
                self.records.append(record)
                event = record_event(record, self.clock() - self.started, self.function)
                if event is not None:
                    self.emit(event)
            return found

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def start(self) -> LogFollower:
        self._thread = threading.Thread(target=self._run, name=f"log-{self.function}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.poll()

    def __enter__(self) -> LogFollower:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
        if event.kind == HEALTH and not self.verbose and not event.data.get("green"):
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
