"""What a `body_matches` costs per match: Python's `re` against RE2 (greenlight.spec.regex), typical and hostile.

    .venv/bin/python bench/regex.py [--repeat 200]

Prints figures, asserts nothing. The hostile case is `(a+)+$` against 'a' * n + '!': `re` backtracks
through 2^n paths (so it is timed only for small n, where it still ends), RE2 stays linear in the text.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hooks"))

from greenlight.spec.regex import compile_pattern  # noqa: E402


def per_call(fn: Callable[[], Any], repeat: int) -> float:
    """Best-of-three mean seconds of one call."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - started) / repeat)
    return best


def show(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds:9.2f} s "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    typical_body = json.dumps(
        {"status": "ok", "version": "1.4.2", "items": [{"id": i, "name": f"item-{i}"} for i in range(400)]}
    )
    typical = r'"version":\s*"1\.4\.\d+"'
    print(f"typical: /{typical}/ on a {len(typical_body)}-byte JSON body")
    for name, compiled in (("re", re.compile(typical)), ("RE2", compile_pattern(typical))):
        print(f"  {name:4} {show(per_call(lambda c=compiled: c.search(typical_body), args.repeat))} per match")

    big = typical_body * (1024 * 1024 // len(typical_body))
    print(f"typical, no match: /{typical}X/ on a {len(big)}-byte body (max_body_bytes default)")
    for name, compiled in (("re", re.compile(typical + "X")), ("RE2", compile_pattern(typical + "X"))):
        print(f"  {name:4} {show(per_call(lambda c=compiled: c.search(big), max(args.repeat // 50, 2)))} per match")

    hostile = r"(a+)+$"
    print(f"hostile: /{hostile}/ on 'a' * n + '!'")
    python_re = re.compile(hostile)
    rows = []
    for n in (16, 18, 20, 22):
        rows.append(("re", n, per_call(lambda n=n: python_re.search("a" * n + "!"), 1)))
    bounded = compile_pattern(hostile)
    for n in (22, 5000, 1024 * 1024):
        text = "a" * n + "!"
        rows.append(("RE2", n, per_call(lambda t=text: bounded.search(t), max(args.repeat // (1 + n // 5000), 2))))
    for name, n, seconds in rows:
        print(f"  {name:4} n={n:<8} {show(seconds)} per match")
    print("  re at n=5000 would take about 2^5000 / 2^22 times its n=22 figure: it never ends")


if __name__ == "__main__":
    main()
