"""What the runtime and command-line adversarial tests share: a timed hook invocation and its figures.

The twin's AWS comes from the folder's conftest (`twin`, defined once in hook_harness), which also starts
every test with no secret cached or remembered.
Everything runs for real: the CodeDeploy hook handler with a Lambda context on the real clock, HTTP servers
on 127.0.0.1 (tests/support/servers.py) and the twin's AWS (moto in server mode on 127.0.0.1, with
CodeDeploy's hook API and fault injection: a `delay` fault holds an AWS call in the server, as a slow or
unreachable endpoint would).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
for _path in (TESTS, TESTS / "functional" / "reliability"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from hook_harness import HOOK, Invocation, Twin, http_spec, invoke, write_spec  # noqa: E402

from support.lambda_context import FakeLambdaContext, context_for  # noqa: E402

__all__ = [
    "HOOK",
    "Timed",
    "Twin",
    "http_spec",
    "invoke_timed",
    "write_spec",
]


@dataclass
class Timed:
    """One hook invocation and when its report went out, against the Lambda context's own clock."""

    invocation: Invocation
    lambda_seconds: float  # the Lambda time the invocation started with
    returned_after: float  # seconds from the start until the handler returned
    report_left: float | None  # Lambda seconds left when the (single) report was sent; None: no report

    @property
    def outcome(self) -> dict[str, Any]:
        assert self.invocation.error is None, f"the handler raised {self.invocation.error!r}"
        assert self.invocation.outcome is not None
        return self.invocation.outcome

    def figures(self, label: str) -> str:
        left = "no report" if self.report_left is None else f"{self.report_left:.2f}s left at report"
        line = (
            f"[time-to-report] {label}: Lambda {self.lambda_seconds:g}s, returned after {self.returned_after:.2f}s, "
            f"{left}, status {self.outcome.get('status')}"
        )
        print(line)
        return line

    def assert_reported_in_time(self) -> None:
        """The contract: exactly one report, sent before the Lambda context's deadline, and the handler returned
        before it too (a handler still running at the deadline is killed, and its report lost)."""
        assert self.invocation.report_sends, "the hook never reported"
        assert len(self.invocation.report_sends) == 1, f"reported {len(self.invocation.report_sends)} times"
        assert self.report_left is not None and self.report_left > 0, "the report went out after the deadline"
        assert self.returned_after < self.lambda_seconds, "the handler returned after the Lambda's deadline"


def invoke_timed(twin: Twin, spec: Path | str | None, *, seconds: float, env: dict[str, str] | None = None) -> Timed:
    """Run the CodeDeploy hook handler once with `seconds` of Lambda time, and time its report."""
    context: FakeLambdaContext = context_for(seconds)
    started = time.monotonic()
    invocation = invoke(twin, spec, context=context, env=env)
    returned = time.monotonic() - started
    left = invocation.report_sends[0] if invocation.report_sends else None
    return Timed(invocation, seconds, returned, left)
