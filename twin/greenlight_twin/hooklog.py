"""Reads what a hook function tells in its log: the structured check and verdict events, and its error lines.

The handlers write Powertools JSON lines (what CloudWatch Logs would hold). greenlight.reporting.log
gives every record about a check `greenlight_event: "check"` with `check` (CheckResult.to_dict()) and
`hook`, and the verdict record `greenlight_event: "verdict"` with `verdict`, `succeeded`, `reason` and
`hook`. Those fields are all that is read here: never the message text, which is for people.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenlight_twin.outcome import CheckOutcome
from greenlight_twin.progress import CHECK, LOG, VERDICT, Event, ProgressFn

__all__ = [
    "CHECK_EVENT",
    "EVENT_FIELD",
    "VERDICT_EVENT",
    "HookReport",
    "LogFollower",
    "check_summary",
    "parse_log_line",
    "read_report",
    "record_event",
]

# The field and its values that greenlight.reporting.log writes (a contract with the hooks).
EVENT_FIELD = "greenlight_event"
CHECK_EVENT = "check"
VERDICT_EVENT = "verdict"

_LEVELS_SHOWN = frozenset({"ERROR", "CRITICAL", "WARNING"})
# Warnings that are part of normal operation and would only clutter the view.
_QUIET_WARNINGS = ("already completed", "is ignored: an ECS hook runs")
_MAX_LINE = 64 * 1024


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


def _check_of(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    check = record.get("check")
    return check if record.get(EVENT_FIELD) == CHECK_EVENT and isinstance(check, Mapping) else None


def check_summary(check: Mapping[str, Any]) -> str:
    """`PASS 5/5` style counts and the reason of a check result (`CheckResult.to_dict()`)."""
    counts = check.get("counts") or {}
    parts = [f"{counts[k]} {k.lower()}" for k in ("PASS", "FAIL", "ERROR") if counts.get(k)]
    taken = sum(int(counts.get(k) or 0) for k in ("PASS", "FAIL", "ERROR"))
    measured = f"{taken} measurement(s): {', '.join(parts)}" if parts else "no measurement"
    return f"{measured} - {check.get('reason', '')}".strip(" -")


def record_event(record: Mapping[str, Any], at: float, function: str) -> Event | None:
    """The progress event a log record stands for (a check, a verdict, an error), or None."""
    check = _check_of(record)
    if check is not None:
        status = "paused" if check.get("paused") else check.get("status", "?")
        return Event(
            CHECK,
            f"check {check.get('name', '?')} ({check.get('kind', '?')}): {status} - {check_summary(check)}",
            at,
            {"function": function, "check": dict(check), "round": record.get("round"), "hook": record.get("hook")},
        )
    if record.get(EVENT_FIELD) == VERDICT_EVENT:
        return Event(
            VERDICT,
            f"verdict {record.get('verdict')}: {record.get('reason', '')}",
            at,
            {
                "function": function,
                "verdict": record.get("verdict"),
                "succeeded": record.get("succeeded"),
                "hook": record.get("hook"),
            },
        )
    if "verdict" in record:
        return None  # the ECS handler's answer line repeats the verdict with its hook status
    message = str(record.get("message", ""))
    level = str(record.get("level", "")).upper()
    if level in _LEVELS_SHOWN and not any(quiet in message for quiet in _QUIET_WARNINGS):
        detail = record.get("exception")
        data: dict[str, Any] = {"function": function, "level": level}
        if detail:
            data["exception"] = str(detail)[-2000:]
        return Event(LOG, f"{level.lower()}: {message}", at, data)
    return None


@dataclass(frozen=True)
class HookReport:
    """What a hook's log records say: its checks (the last result of each), its verdict and reason, its errors."""

    checks: tuple[CheckOutcome, ...] = ()
    verdict: str | None = None
    reason: str | None = None
    errors: tuple[str, ...] = ()


def read_report(records: Iterable[Mapping[str, Any]]) -> HookReport:
    """The report of a hook's log records, in the order they were written."""
    checks: dict[str, CheckOutcome] = {}
    verdict = reason = None
    errors: list[str] = []
    for record in records:
        check = _check_of(record)
        if check is not None:
            checks[str(check.get("name"))] = CheckOutcome.from_log(check)
        elif record.get(EVENT_FIELD) == VERDICT_EVENT:
            verdict = str(record.get("verdict"))
            reason = str(record.get("reason", ""))
        if str(record.get("level", "")).upper() in ("ERROR", "CRITICAL"):
            errors.append(str(record.get("message")))
    return HookReport(tuple(checks.values()), verdict, reason, tuple(errors))


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

    def report(self) -> HookReport:
        """What the records read so far say."""
        with self._lock:
            return read_report(list(self.records))

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
