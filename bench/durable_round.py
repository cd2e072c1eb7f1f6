"""Figures: what one round of the durable worker costs beyond its measurements, under the SDK's local runner.

Prints figures and asserts nothing; runs on its own:

    .venv/bin/python bench/durable_round.py [--rounds 30] [--runs 3]

A spec with one `http` check against a server on 127.0.0.1 runs in the durable worker
(greenlight.durable.worker) under aws-durable-execution-sdk-python-testing's DurableFunctionTestRunner,
one measurement per round (GREENLIGHT_ROUND_HOLD=0, interval 1 s). The runner skips durable waits, so the
wall time of the execution is: the measurements, the engine's in-round waits for the next measurement
(recorded by the clock), and the overhead of the rounds: loading the spec, planning, the step's
checkpoint, ending the invocation at the wait, invoking the handler again and replaying the checkpointed
steps. Overhead per round = (wall - measurements - in-round waits) / rounds. The replay grows with the
number of rounds already done, so the figures are given for the first and the last third as well.

This is the local runner's overhead (checkpoints in memory, invocations in-process): in AWS each round adds
a Lambda invocation (cold or warm start) and the checkpoint API's round trips, which cannot be measured here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner

from greenlight.durable.job import CODE_DEPLOY, Job
from greenlight.durable.worker import Worker, make_handler
from greenlight.engine.clock import SystemClock


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _TimedClock(SystemClock):
    def __init__(self) -> None:
        self.waited = 0.0
        self.lock = threading.Lock()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        started = time.monotonic()
        try:
            return super().wait(event, seconds)
        finally:
            with self.lock:
                self.waited += time.monotonic() - started


class _Measured(Worker):
    """Reports nothing; records each round's wall time and its measurements' time."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rounds: list[tuple[float, float]] = []  # (start, end) wall time of each round's step

    def round(self, job: Job, progress: Any, lambda_context: Any) -> dict[str, Any]:
        started = time.monotonic()
        out = super().round(job, progress, lambda_context)
        self.rounds.append((started, time.monotonic()))
        return out

    def report(self, job: Job, outcome: Any) -> dict[str, Any]:
        return dict(outcome)


def one_run(url: str, rounds: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp())
    spec = folder / "spec.json"
    check = {"name": "health", "http": {"path": "/health"}, "count": rounds, "interval": 1, "timeout": 0.5}
    hooks = {"AfterAllowTestTraffic": [check]}
    spec.write_text(json.dumps({"version": 1, "target": {"test_url": url}, "hooks": hooks}))
    env = {"GREENLIGHT_SPEC": str(spec), "GREENLIGHT_ROUND_HOLD": "0", "GREENLIGHT_REPORT_RESERVE": "1"}
    clock = _TimedClock()
    worker = _Measured(aws=object(), env=env, clock=clock)
    now = time.time()
    ids = {"deploymentId": "d-BENCH0001", "lifecycleEventHookExecutionId": "bench"}
    job = Job(CODE_DEPLOY, "AfterAllowTestTraffic", now, now + 3600, ids)
    started = time.monotonic()
    with DurableFunctionTestRunner(handler=make_handler(worker)) as runner:
        result = runner.run(input=json.dumps(job.to_payload()), execution_timeout=600, execution_name=job.name())
    wall = time.monotonic() - started
    answer = json.loads(result.result)
    assert answer["verdict"] == "PASSED", answer
    n = len(worker.rounds)
    # Time between the end of one round and the start of the next, minus the engine's wait inside the next
    # round is not separable per round; the totals are.
    step_time = sum(end - start for start, end in worker.rounds)
    gaps = [worker.rounds[i + 1][0] - worker.rounds[i][1] for i in range(n - 1)]
    third = max(n // 3, 1)
    return {
        "rounds": n,
        "wall": wall,
        "waited": clock.waited,
        "step_time": step_time,
        "overhead_per_round": (wall - clock.waited) / n,
        "gap_first_third_ms": statistics.median(gaps[:third]) * 1000 if gaps else 0.0,
        "gap_last_third_ms": statistics.median(gaps[-third:]) * 1000 if gaps else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for i in range(args.runs):
            f = one_run(url, args.rounds)
            print(
                f"run {i + 1}: {f['rounds']} rounds in {f['wall']:.2f}s wall, {f['waited']:.2f}s of in-round waits; "
                f"per round beyond waits (measurement + overhead): {f['overhead_per_round'] * 1000:.1f} ms; "
                f"between rounds (checkpoint, end, re-invoke, replay): median {f['gap_first_third_ms']:.1f} ms "
                f"(first third), {f['gap_last_third_ms']:.1f} ms (last third)"
            )
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
