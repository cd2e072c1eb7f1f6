"""Entry point of the `greenlight` command: builds the parser from the subcommand modules.

Built-in subcommands are listed in COMMANDS. Other distributions add their own through the entry-point
group `greenlight.commands` (the twin registers `greenlight twin` so): each entry point names a module
with the same `register(subparsers)` function.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator, Sequence
from importlib.metadata import entry_points
from types import ModuleType

from greenlight import __version__

# Each module defines register(subparsers) -> None and a run(args) -> int set as the parser's `func`.
COMMANDS = (
    "greenlight_cli.check",
    "greenlight_cli.validate",
    "greenlight_cli.appspec",
)
PLUGIN_GROUP = "greenlight.commands"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="greenlight",
        description="Validate the green side of an ECS blue/green deployment before it takes production traffic.",
    )
    parser.add_argument("--version", action="version", version=f"greenlight {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(sub)
    return parser


def _command_modules() -> Iterator[ModuleType]:
    """The built-in subcommand modules, then each plugin's (its module is imported only to register it)."""
    for name in COMMANDS:
        yield importlib.import_module(name)
    seen = set(COMMANDS)
    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        if entry.value in seen:
            continue
        seen.add(entry.value)
        yield entry.load()


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
