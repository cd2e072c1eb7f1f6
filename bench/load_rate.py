"""Achieved rate against the rate asked for: the load (greenlight.load) against a server on 127.0.0.1.

Prints, for each asked rate, what was sent per second, how many requests were missed, answered, and the
latency quantiles, against a fast server and one that takes `--slow-ms` per answer (so the concurrency cap
fills and the open-loop schedule counts misses instead of lowering the rate). Asserts nothing.

    .venv/bin/python bench/load_rate.py [--rates 50 200] [--seconds 5] [--concurrency 16] [--slow-ms 200]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))

from greenlight.engine.check import CheckContext, Target  # noqa: E402
from greenlight.engine.deadline import Deadline  # noqa: E402
from greenlight.load import LoadRun, LoadSpec  # noqa: E402


def _server(delay: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the base class's name
            if delay:
                time.sleep(delay)
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def measure(rate: float, seconds: float, concurrency: int, delay: float) -> dict[str, Any]:
    server = _server(delay)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        ctx = CheckContext(target=Target(test_url=url), deadline=Deadline.after(seconds + 10))
        load = LoadRun(LoadSpec(rate, concurrency=concurrency, duration=seconds, timeout=5.0))
        load.start(ctx)
        time.sleep(seconds)
        # Let the requests in flight answer (their own bound is 5 s), then stop.
        load.wait_for_answers(load.snapshot()["sent"], 5.0)
        load.stop()
        return load.snapshot()
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 200.0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--slow-ms", type=float, default=200.0)
    args = parser.parse_args()
    print(
        f"{'server':>10} {'asked/s':>8} {'sent/s':>8} {'sent':>6} {'missed':>6} {'answered':>8} "
        f"{'errors':>6} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7}"
    )
    for label, delay in (("fast", 0.0), (f"{args.slow_ms:g}ms", args.slow_ms / 1000)):
        for rate in args.rates:
            s = measure(rate, args.seconds, args.concurrency, delay)
            q = s["latency_ms"]
            print(
                f"{label:>10} {rate:>8g} {s['achieved_rate']:>8.1f} {s['sent']:>6} {s['missed']:>6} "
                f"{s['completed']:>8} {s['error_count']:>6} {q['p50']!s:>7} {q['p90']!s:>7} {q['p99']!s:>7}"
            )


if __name__ == "__main__":
    main()
