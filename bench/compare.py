"""Figures for the `compare` check: how often a same build fails (false alarms) and how often +20 % is caught.

Prints figures and asserts nothing; `make bench` runs it from bench/run.py, and it runs on its own too:

    .venv/bin/python bench/compare.py [--runs 2000] [--real-runs 100] [--seed 15] [--median 2.5] [--sigma 0.4]

1. Real runs: two processes of the sample service (app/server.py, the same build) on 127.0.0.1, compared with
   `compare`'s defaults (its schema's) through the engine: how many same-build runs are not PASS, and a
   lognormal distribution fitted to the latencies they saw (mean and standard deviation of log ms).
2. Simulated runs, seeded, so the figures repeat exactly: the judging `compare` uses
   (greenlight.checks.compare) on samples drawn from a lognormal (`--median`, `--sigma`: by default what
   such real runs gave on a shared two-core machine, whose fits ranged over medians of 2 to 4 ms and sigmas
   of 0.3 to 0.4), and from the same shape scaled to a 100 ms median, where a +20 % change clears the
   default 5 ms floor of the tolerance. Same build: both sides from it; +20 %: green's values times 1.2,
   which moves its median by +20 %. A false alarm is a FAIL; MARGINAL (significantly slower, within the
   tolerance) and the Mann-Whitney test alone (p < alpha) are shown beside it.

The false-alarm rate must stay within alpha plus sampling error: the bound printed is alpha + 2 standard
errors of a rate alpha over the number of runs.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from greenlight.checks.compare import SCHEMA, combine, judge_errors, judge_latency  # noqa: E402
from greenlight.engine.deadline import Deadline  # noqa: E402
from greenlight.plan import run_hook  # noqa: E402
from greenlight.spec import build_spec  # noqa: E402

HOOK = "AfterAllowTestTraffic"
DEFAULTS: dict[str, Any] = {name: f.default for name, f in SCHEMA.fields.items() if f.has_default}


@contextmanager
def sample_service(env: dict[str, str] | None = None) -> Iterator[str]:
    """One sample service process on a free 127.0.0.1 port; yields its URL and stops it at the end."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app" / "server.py"), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError(f"the sample service did not start: {line!r}")
        yield line.split()[1]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def real_runs(runs: int) -> tuple[Counter[str], list[float], float]:
    """`runs` same-build compare checks between two sample service processes: outcomes, blue's latencies, wall s."""
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    started = time.perf_counter()
    with sample_service() as blue, sample_service() as green:
        doc = {
            "version": 1,
            "target": {"prod_url": blue, "test_url": green},
            "hooks": {HOOK: [{"name": "vs-blue", "compare": {"path": "/"}, "timeout": "30s"}]},
        }
        spec = build_spec(doc, env={})
        for _ in range(runs):
            result = run_hook(spec, HOOK, deadline=Deadline.after(60))
            details = result.checks[0].measurements[-1].details
            outcomes[details.get("outcome", result.checks[0].status.value)] += 1
            latencies.extend(details.get("blue", {}).get("latencies_ms", []))
    return outcomes, latencies, time.perf_counter() - started


def lognormal_fit(values: list[float]) -> tuple[float, float]:
    logs = [math.log(v) for v in values if v > 0]
    return statistics.fmean(logs), statistics.stdev(logs)


def simulate(runs: int, rng: random.Random, draw: Callable[[], float], factor: float) -> Counter[str]:
    """`runs` comparisons of `samples` draws a side, green's scaled by `factor`; counts of outcomes and p < alpha."""
    n, alpha = DEFAULTS["samples"], DEFAULTS["alpha"]
    counts: Counter[str] = Counter()
    for _ in range(runs):
        blue = [draw() for _ in range(n)]
        green = [draw() * factor for _ in range(n)]
        latency = judge_latency(
            green,
            blue,
            alpha=alpha,
            max_increase_pct=DEFAULTS["max_increase_pct"],
            max_increase_ms=DEFAULTS["max_increase_ms"],
            min_samples=DEFAULTS["min_samples"],
        )
        errors = judge_errors(0, n, 0, n, alpha=alpha, max_increase=0.0, min_samples=DEFAULTS["min_samples"])
        counts[combine([latency, errors]).outcome] += 1
        counts["p<alpha"] += latency.details["p"] < alpha
    return counts


def rate(count: int, runs: int) -> str:
    return f"{count / runs:6.1%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="simulated comparisons per scenario (default 2000)")
    parser.add_argument("--real-runs", type=int, default=100, help="real same-build comparisons (default 100; 0: none)")
    parser.add_argument("--seed", type=int, default=15, help="the simulation's seed (default 15)")
    parser.add_argument("--median", type=float, default=2.5, help="the simulated latencies' median, ms (2.5)")
    parser.add_argument("--sigma", type=float, default=0.4, help="their lognormal sigma (0.4)")
    args = parser.parse_args(argv)
    n, alpha = DEFAULTS["samples"], DEFAULTS["alpha"]
    tolerance = f"max({DEFAULTS['max_increase_pct']:g} % of blue's median, {DEFAULTS['max_increase_ms']:g} ms)"
    print(f"compare: the defaults: {n} requests a side, alpha {alpha:g}, tolerance {tolerance}")

    if args.real_runs:
        try:
            outcomes, latencies, wall = real_runs(args.real_runs)
        except (RuntimeError, OSError) as exc:
            print(f"  real runs skipped ({exc})")
        else:
            fit = lognormal_fit(latencies)
            shown = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
            print(
                f"  real: {args.real_runs} same-build runs between two sample service processes on 127.0.0.1 "
                f"({2 * n * args.real_runs} requests, {wall:.1f} s): {shown}"
            )
            print(
                f"  blue's latencies: median {statistics.median(latencies):.2f} ms, p99 "
                f"{statistics.quantiles(latencies, n=100)[98]:.2f} ms; lognormal fit: median "
                f"{math.exp(fit[0]):.2f} ms, sigma {fit[1]:.2f}"
            )

    mu, sigma = math.log(args.median), args.sigma
    rng = random.Random(args.seed)
    bound = alpha + 2 * math.sqrt(alpha * (1 - alpha) / args.runs)
    print(
        f"  simulated, seed {args.seed}, {args.runs} runs a scenario, lognormal sigma {sigma:g}; "
        f"false-alarm bound alpha + 2 s.e. = {bound:.1%}"
    )
    print(f"  {'scenario':<48} {'FAIL':>7} {'MARGINAL':>9} {'PASS':>7} {'test p<alpha':>13}")
    for service, median in (("sample service", math.exp(mu)), ("100 ms service", 100.0)):
        scale = median / math.exp(mu)

        def draw(scale: float = scale) -> float:
            return scale * math.exp(rng.gauss(mu, sigma))

        for label, factor in (("same build", 1.0), ("+20 % median", 1.2)):
            counts = simulate(args.runs, rng, draw, factor)
            name = f"{label}, {service} (median {median:.3g} ms)"
            print(
                f"  {name:<48} {rate(counts['FAIL'], args.runs)} {rate(counts['MARGINAL'], args.runs):>9} "
                f"{rate(counts['PASS'], args.runs)} {rate(counts['p<alpha'], args.runs):>13}"
            )
    print(
        "  same build: FAIL is a false alarm; +20 %: FAIL is a detection (MARGINAL: found slower, within the "
        "tolerance, which passes unless `marginal: fail`)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
