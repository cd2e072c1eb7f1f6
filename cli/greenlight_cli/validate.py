"""`greenlight validate --spec FILE`: check a spec without running it."""

from __future__ import annotations

import argparse
import sys

from greenlight_cli.main import EXIT_OK, EXIT_USAGE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a spec without running it")
    p.add_argument("--spec", required=True, help="spec file (YAML or JSON), or ssm:/parameter/name")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from greenlight import spec as specs

    try:
        spec = specs.load(args.spec)
    except (specs.SpecError, specs.SpecSourceError) as exc:
        print(f"greenlight: {exc}", file=sys.stderr)
        return EXIT_USAGE
    hooks = {h: len(c) for h, c in spec.hooks.items() if c}
    summary = ", ".join(f"{h} ({n} check{'s' if n != 1 else ''})" for h, n in hooks.items()) or "no checks"
    print(f"{args.spec}: valid spec, version {spec.version}: {summary}")
    return EXIT_OK
