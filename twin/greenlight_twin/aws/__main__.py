"""Runs the twin's AWS endpoint in the foreground: `python -m greenlight_twin.aws --port N [--seed]`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import asdict

from greenlight_twin.aws.server import DEFAULT_REGION, session, start
from greenlight_twin.aws.world import seed_bluegreen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m greenlight_twin.aws",
        description="moto in server mode on 127.0.0.1 with greenlight's extensions",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--region", default=DEFAULT_REGION, help="region for --seed (default %(default)s)")
    parser.add_argument(
        "--seed",
        choices=("CODE_DEPLOY", "ECS"),
        help="create a blue/green deployment in progress with this controller and print its names as JSON",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")

    server = start(args.port, quiet=not args.verbose)
    print(server.endpoint_url, flush=True)
    if args.seed:
        world = seed_bluegreen(session(server.endpoint_url, args.region), region=args.region, controller=args.seed)
        print(json.dumps(asdict(world)), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
