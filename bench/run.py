"""Performance figures for greenlight's core: checks side by side, and the hook handler's import cost.

Prints figures and asserts nothing; `make bench` runs it. See bench/README.md for what they mean.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test servers (support.servers) are reused here

from greenlight.engine.deadline import Deadline  # noqa: E402
from greenlight.spec import build_spec  # noqa: E402
from greenlight.validation import run_hook  # noqa: E402
from support.servers import HttpServer, Reply  # noqa: E402

HOOK = "AfterAllowTestTraffic"
HANDLER = "greenlight.handlers.codedeploy"
# Modules the handler should not load before a spec asks for them (lazy imports keep cold starts short).
SHOULD_BE_LAZY = (
    "greenlight.checks.http",
    "greenlight.probe.http",
    "greenlight.spec",
    "greenlight.validation",
    "greenlight.discovery.codedeploy",
    "greenlight_twin",
    "jmespath",
    "requests",
    "urllib3",
    "yaml",
    "boto3",
    "botocore",
    "moto",
)


def bench_concurrency(checks: int, delay: float, repeats: int) -> None:
    """Wall time of one run_hook with `checks` HTTP checks against a server answering after `delay` seconds."""
    with HttpServer(Reply(delay=delay, json={"status": "ok"})) as server:
        doc = {
            "version": 1,
            "target": {"test_url": server.url, "prod_url": server.url},
            "hooks": {HOOK: [{"name": f"c{i}", "http": {"path": f"/{i}"}, "timeout": "5s"} for i in range(checks)]},
        }
        spec = build_spec(doc, env={})
        run_hook(spec, HOOK, deadline=Deadline.after(30))  # warm-up: first imports and thread start-up
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            result = run_hook(spec, HOOK, deadline=Deadline.after(30))
            times.append(time.perf_counter() - started)
            if not result.succeeded:
                print(f"  warning: a run did not pass: {result.reason}")
        requests = len(server.requests)
    print(f"engine: {checks} HTTP checks, server answering in {delay * 1000:.0f} ms, {repeats} runs")
    print(
        f"  wall time per run: min {min(times):.3f} s, median {statistics.median(times):.3f} s, max {max(times):.3f} s"
    )
    print(f"  one after another would take at least {checks * delay:.1f} s; requests served: {requests}")


@dataclass(frozen=True)
class ImportLine:
    module: str
    self_us: int
    cumulative_us: int
    depth: int  # nesting under the imports that caused it


_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


def import_profile() -> tuple[list[ImportLine], float]:
    """`python -X importtime -c 'import <handler>'` in a fresh interpreter: its import lines, and its wall time."""
    env = {**os.environ, "POWERTOOLS_SERVICE_NAME": "greenlight", "POWERTOOLS_METRICS_NAMESPACE": "greenlight"}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {HANDLER}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    wall = time.perf_counter() - started
    lines = []
    for raw in proc.stderr.splitlines():
        m = _LINE.match(raw)
        if m:
            lines.append(ImportLine(m.group(4), int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2))
    return lines, wall


def importer(lines: list[ImportLine], module: str) -> str:
    """The module whose import pulled `module` in (importtime lists an import's children before it)."""
    index = next(i for i, line in enumerate(lines) if line.module == module)
    depth = lines[index].depth
    parent = next((line.module for line in lines[index + 1 :] if line.depth < depth), None)
    return parent or "the -c statement"


def bench_imports(repeats: int) -> None:
    """The handler's import cost in a fresh interpreter (best of `repeats`), and what it leaves unimported."""
    runs = [import_profile() for _ in range(repeats)]
    totals = [sum(line.self_us for line in run[0]) / 1000 for run in runs]
    lines, wall = min(runs, key=lambda run: sum(line.self_us for line in run[0]))
    total_ms = min(totals)
    own = next((line for line in lines if line.module == HANDLER), None)
    imported = {line.module for line in lines}
    print(f"import {HANDLER} (fresh interpreter, best of {repeats})")
    median = statistics.median(totals)
    print(f"  all imports: {total_ms:.1f} ms over {len(lines)} modules (median of the runs: {median:.1f} ms)")
    print(f"  whole process (interpreter start + imports): {wall * 1000:.0f} ms")
    if own is not None:
        print(f"  the handler module, cumulative: {own.cumulative_us / 1000:.1f} ms")
    print("  top 10 modules by their own import time:")
    for line in sorted(lines, key=lambda x: x.self_us, reverse=True)[:10]:
        print(f"    {line.self_us / 1000:7.1f} ms  {line.module}")
    print("  top 10 packages by cumulative import time (top-level packages only):")
    tops = [line for line in lines if "." not in line.module]
    for line in sorted(tops, key=lambda x: x.cumulative_us, reverse=True)[:10]:
        print(f"    {line.cumulative_us / 1000:7.1f} ms  {line.module}")
    lazy = [m for m in SHOULD_BE_LAZY if m not in imported]
    eager = [m for m in SHOULD_BE_LAZY if m in imported]
    print(f"  not imported (loaded only when a spec needs them): {', '.join(lazy) or 'none'}")
    shown = [f"{m} (by {importer(lines, m)})" for m in eager]
    print(f"  imported at start anyway: {', '.join(shown) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=20, help="HTTP checks in the concurrency run (default 20)")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds the server takes to answer (default 0.3)")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions of each measurement (default 5)")
    args = parser.parse_args(argv)
    bench_concurrency(args.checks, args.delay, args.repeats)
    print()
    bench_imports(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
