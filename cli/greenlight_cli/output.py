"""How the command line shows a run: live progress on a terminal, a table at the end, or JSON."""

from __future__ import annotations

import json
import sys
import threading
from typing import TextIO

from greenlight.engine.check import Check
from greenlight.engine.model import Measurement, RunResult, Status

_MARK = {Status.PASS: "✓", Status.FAIL: "✗", Status.ERROR: "!", Status.INCONCLUSIVE: "?"}
_COLOR = {Status.PASS: "32", Status.FAIL: "31", Status.ERROR: "33", Status.INCONCLUSIVE: "35"}


def _paint(text: str, status: Status, color: bool) -> str:
    return f"\033[{_COLOR[status]}m{text}\033[0m" if color else text


class LiveProgress:
    """Prints one line per measurement as it happens (thread-safe; checks run side by side)."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None) -> None:
        # sys.stderr is looked up now, not when the module was imported: it may have been replaced since.
        self.stream = stream if stream is not None else sys.stderr
        self.color = self.stream.isatty() if color is None else color
        self.lock = threading.Lock()

    def __call__(self, check: Check, index: int, m: Measurement) -> None:
        mark = _paint(_MARK[m.status], m.status, self.color)
        line = f"  {mark} {check.name} [{index + 1}/{check.policy.count}] {m.status.value}: {m.reason}"
        with self.lock:
            print(line, file=self.stream, flush=True)


def table(result: RunResult, color: bool = False) -> str:
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
    lines.append(f"{result.hook}: {result.verdict.value} → would report {outcome} ({result.duration_ms / 1000:.2f}s)")
    lines.append(f"  {result.reason}")
    return "\n".join(lines)


def as_json(result: RunResult) -> str:
    return json.dumps(result.to_dict(), indent=2, sort_keys=False)
