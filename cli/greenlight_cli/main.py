"""Entry point of the `greenlight` command: builds the parser from the subcommand modules.

Built-in subcommands are listed in COMMANDS. Other distributions add their own through the entry-point
group `greenlight.commands` (the twin registers `greenlight twin` so): each entry point names a module
with the same `register(subparsers)` function.

Exit codes: 0 passed, 1 failed (or did not pass), 2 bad usage (flags, spec, environment), 3 an internal
error (a bug: one line on stderr; GREENLIGHT_DEBUG=1 adds the traceback), 130 interrupted. No traceback
reaches the terminal otherwise, and output that cannot be written (a closed or broken pipe, a terminal
whose encoding lacks a character) never changes the exit code of a verdict already reached.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback
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

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


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


def _tolerant_streams() -> None:
    """Standard streams that never raise on a character their encoding lacks (LANG=C, PYTHONIOENCODING=latin-1)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            with contextlib.suppress(ValueError, OSError):  # a closed stream: nothing will be written to it
                reconfigure(errors="backslashreplace")


def silence_stdout() -> None:
    """Point standard output at /dev/null: its reader is gone (a broken pipe) and nothing more can reach it.

    Also stops the interpreter's last flush at exit from failing again on the same pipe."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_streams()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2, its message on stderr)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away before a verdict was printed (one printed after a verdict is handled where it is).
        silence_stdout()
        return EXIT_FAILED
    except Exception as exc:
        # A bug, not a usage error: say so in one line, and keep the traceback for whoever asks.
        if os.environ.get("GREENLIGHT_DEBUG"):
            traceback.print_exc()
        print(
            f"greenlight: internal error: {type(exc).__name__}: {exc} (set GREENLIGHT_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
