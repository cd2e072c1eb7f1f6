"""Entry point of the `greenlight` command: builds the parser from the subcommand modules."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from greenlight import __version__

# Each module defines register(subparsers) -> None and a run(args) -> int set as the parser's `func`.
COMMANDS = (
    "greenlight.cli.check",
    "greenlight.cli.validate",
    "greenlight.cli.appspec",
    "greenlight.cli.twin",
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="greenlight",
        description="Validate the green side of an ECS blue/green deployment before it takes production traffic.",
    )
    parser.add_argument("--version", action="version", version=f"greenlight {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a subcommand whose module is not part of this install
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
