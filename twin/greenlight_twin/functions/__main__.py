"""`python -m greenlight_twin.functions rie|functions TEMPLATE`: find the emulator, list a template's functions."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from greenlight_twin.functions.errors import LambdaTwinError
from greenlight_twin.functions.rie import find_rie
from greenlight_twin.functions.template import functions_from_template


def main(argv: list[str] | None = None) -> int:
    """`python -m greenlight_twin.functions rie|functions TEMPLATE`: find the emulator, list template functions."""
    parser = argparse.ArgumentParser(prog="python -m greenlight_twin.functions", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rie", help="print the emulator binary's path (fetching it if needed)")
    listing = sub.add_parser("functions", help="list a template's functions as they would run locally")
    listing.add_argument("template", type=Path)
    listing.add_argument("--stack-name", default="greenlight")
    listing.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE")
    listing.add_argument("--code", type=Path, default=None, help="the functions' code folder (default: CodeUri)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        if args.command == "rie":
            print(find_rie())
            return 0
        parameters = dict(item.split("=", 1) for item in args.parameter)
        for config in functions_from_template(
            args.template, stack_name=args.stack_name, parameters=parameters, code_dir=args.code
        ):
            print(f"{config.logical_id}: {config.function_name} {config.handler} timeout={config.timeout}s "
                  f"memory={config.memory}MB code={config.code_dir}")  # fmt: skip
            for name, value in sorted(config.environment.items()):
                print(f"    {name}={value}")
    except LambdaTwinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
