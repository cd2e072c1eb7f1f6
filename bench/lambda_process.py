"""One Lambda execution environment for bench/run.py: a cold start, then warm invocations, timed in-process.

Run by the runtime's Python with only the standard library and the bundle on sys.path, the way Lambda
lays a function out (/var/task first, then the layer's /opt/python, then the runtime's own packages):

    python3.13 -I -S -B bench/lambda_process.py plan.json

plan.json: {"paths": [...], "handler": "module.function", "event": {...}, "next_event_url": "...",
"warm": N, "out": "result.json"}. `event` is the cold invocation (import + first call); each of the N
warm invocations takes a fresh event from `next_event_url` first (a new hook execution, as each real
invocation serves one), outside the timings. Writes the timings and every invocation's answer to `out`;
asserts nothing (bench/run.py checks the answers).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any


class Context:
    """What a handler reads from Lambda's context object."""

    function_name = "CodeDeployHook_bench-AfterAllowTestTraffic"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "2026/01/01/[$LATEST]bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def __init__(self, timeout_s: float = 300.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def main(plan_path: str) -> None:
    plan: dict[str, Any] = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    sys.path[:0] = plan["paths"]
    module_name, _, function_name = plan["handler"].rpartition(".")

    wall0, cpu0 = time.perf_counter(), time.process_time()
    module = importlib.import_module(module_name)
    handler = getattr(module, function_name)
    wall1 = time.perf_counter()
    answers = [handler(plan["event"], Context())]
    wall2, cpu2 = time.perf_counter(), time.process_time()

    # Only now: urllib's imports would otherwise have warmed the handler's cold start.
    import urllib.request

    warm_ms: list[float] = []
    warm_cpu = 0.0
    for _ in range(plan["warm"]):
        with urllib.request.urlopen(plan["next_event_url"], timeout=30) as answer:
            event = json.load(answer)
        started, cpu_started = time.perf_counter(), time.process_time()
        answers.append(handler(event, Context()))
        warm_ms.append((time.perf_counter() - started) * 1000)
        warm_cpu += time.process_time() - cpu_started

    result = {
        "import_ms": (wall1 - wall0) * 1000,
        "cold_ms": (wall2 - wall0) * 1000,
        "cold_cpu_ms": (cpu2 - cpu0) * 1000,
        "warm_ms": warm_ms,
        "warm_cpu_ms": warm_cpu * 1000 / len(warm_ms) if warm_ms else None,
        "answers": answers,
        "modules": len(sys.modules),
    }
    Path(plan["out"]).write_text(json.dumps(result, default=str), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
