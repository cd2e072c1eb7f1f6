"""How the command line shows a run: live progress on a terminal, a table at the end, or JSON."""

from __future__ import annotations

import codecs
import json
import os
import sys
import threading
from typing import TextIO

from greenlight.engine.check import Check
from greenlight.engine.model import Measurement, RunResult, Status

_MARK = {Status.PASS: "✓", Status.FAIL: "✗", Status.ERROR: "!", Status.INCONCLUSIVE: "?"}
_ASCII_MARK = {Status.PASS: "+", Status.FAIL: "x", Status.ERROR: "!", Status.INCONCLUSIVE: "?"}
_COLOR = {Status.PASS: "32", Status.FAIL: "31", Status.ERROR: "33", Status.INCONCLUSIVE: "35"}


def _paint(text: str, status: Status, color: bool) -> str:
    return f"\033[{_COLOR[status]}m{text}\033[0m" if color else text


def wants_color(stream: TextIO | None) -> bool:
    """Color only on a terminal, and never when NO_COLOR is set to anything but empty (https://no-color.org)."""
    if stream is None or os.environ.get("NO_COLOR"):
        return False
    try:
        return bool(stream.isatty())
    except (ValueError, OSError):  # a closed stream
        return False


def unicode_ok(stream: TextIO | None) -> bool:
    """Whether `stream` can carry the marks and arrows (not under LANG=C or a latin-1 PYTHONIOENCODING)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        codecs.lookup(encoding)
        "✓✗→".encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def emit(text: str, stream: TextIO | None = None) -> bool:
    """Write `text` and a newline; False when it could not be (a closed stream, a reader gone), never raising.

    A broken pipe (`greenlight check ... | head -1`) silences standard output for the rest of the run, so
    the verdict's exit code is the one the command returns."""
    from greenlight_cli.main import silence_stdout

    stream = sys.stdout if stream is None else stream
    if stream is None:  # started with the descriptor closed
        return False
    try:
        print(text, file=stream, flush=True)
    except BrokenPipeError:
        if stream is sys.stdout:
            silence_stdout()
        return False
    except (ValueError, OSError):  # closed, or a device that refuses the write
        return False
    return True


class LiveProgress:
    """Prints one line per measurement as it happens (thread-safe; checks run side by side).

    A stream that cannot be written to ends the progress, never the check: the engine turns anything a
    progress callback raises into the check's ERROR, so printing must not raise."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None) -> None:
        # sys.stderr is looked up now, not when the module was imported: it may have been replaced since.
        self.stream = stream if stream is not None else sys.stderr
        self.color = wants_color(self.stream) if color is None else color
        self.marks = _MARK if unicode_ok(self.stream) else _ASCII_MARK
        self.lock = threading.Lock()

    def __call__(self, check: Check, index: int, m: Measurement) -> None:
        mark = _paint(self.marks[m.status], m.status, self.color)
        line = f"  {mark} {check.name} [{index + 1}/{check.policy.count}] {m.status.value}: {m.reason}"
        with self.lock:
            emit(line, self.stream)


def table(result: RunResult, color: bool = False, unicode: bool = True) -> str:
    rows = [("CHECK", "KIND", "RESULT", "PASS/FAIL/ERR", "REASON")]
    for c in result.checks:
        counts = c.counts
        status = c.status.value + (" (dry run)" if c.dry_run else "")
        rows.append((c.name, c.kind, status, f"{counts['PASS']}/{counts['FAIL']}/{counts['ERROR']}", c.reason))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for i, r in enumerate(rows):
        cells = [r[j].ljust(widths[j]) for j in range(4)]
        if i and color:
            cells[2] = _paint(cells[2], result.checks[i - 1].status, True)
        lines.append("  ".join([*cells, r[4]]))
    outcome = "Succeeded" if result.succeeded else "Failed"
    lines.append("")
    arrow = "→" if unicode else "->"
    dry = " (dry run)" if result.dry_run else ""
    lines.append(
        f"{result.hook}: {result.verdict.value}{dry} {arrow} would report {outcome} ({result.duration_ms / 1000:.2f}s)"
    )
    lines.append(f"  {result.reason}")
    return "\n".join(lines)


def as_json(result: RunResult) -> str:
    return json.dumps(result.to_dict(), indent=2, sort_keys=False)
