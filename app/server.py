"""Run the sample service under gunicorn without Docker: ``python app/server.py --port 3000``.

Other code (the local twin, functional tests) starts it as a subprocess::

    [sys.executable, "<repo>/app/server.py", "--host", "127.0.0.1", "--port", str(port)]

with the service's environment variables (see sample_app). It validates them before gunicorn
starts (exit status 2 and one message on stderr naming each bad variable), prints exactly one
line on stdout once the socket listens::

    ready http://127.0.0.1:3000 version=1.0.0 pid=12345 faults=none

and stops gracefully on SIGTERM (in-flight requests finish, exit status 0). ``--port 0`` binds a
free port; the ready line then says which one.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from gunicorn.app.base import BaseApplication

from sample_app import ConfigError, Settings, create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
DEFAULT_THREADS = 4
# Long enough for a delayed answer to finish in a demo, short enough that a stop stays quick.
GRACEFUL_TIMEOUT_S = 10


def parse_port(value: str, source: str) -> int:
    """A TCP port number from ``value``; ConfigError naming ``source`` when it is not one."""
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 5 or int(text) > 65535:
        raise ConfigError([f"{source}={value!r}: expected a port number from 0 to 65535 (0: any free port)"])
    return int(text)


def _positive_int(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 64, got {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="server.py",
        description="Serve the greenlight sample service with gunicorn (configuration: see app/README.md).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument(
        "--port",
        default=None,
        help=f"port to bind; 0 picks a free one (default: $PORT, else {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=DEFAULT_THREADS,
        help=f"request threads in the single worker process (default {DEFAULT_THREADS})",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    return parser


def resolve_port(cli_port: str | None, env: Mapping[str, str]) -> int:
    """--port wins over $PORT, which wins over the default."""
    if cli_port is not None:
        return parse_port(cli_port, "--port")
    env_port = env.get("PORT", "")
    if env_port.strip():
        return parse_port(env_port, "PORT")
    return DEFAULT_PORT


def _format_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class SampleServer(BaseApplication):
    """gunicorn run from code: one gthread worker serving an app built (and validated) up front."""

    def __init__(self, app: Any, settings: Settings, *, host: str, port: int, threads: int, access_log: bool):
        self.application = app
        self.settings = settings
        self.options: dict[str, Any] = {
            "bind": [f"{_format_host(host)}:{port}"],
            # One worker process: FAULT_ERROR_RATE counts requests per process, so one process
            # keeps the spread exact for the whole server; threads give the concurrency.
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "graceful_timeout": GRACEFUL_TIMEOUT_S,
            "errorlog": "-",
            "accesslog": "-" if access_log else None,
            "when_ready": self._announce_ready,
            "proc_name": "greenlight-sample-app",
            # gunicorn >= 25.1 opens a control socket at one fixed per-user path by default: blue,
            # green and parallel tests would fight over it, and nothing here uses it.
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            # Settings a given gunicorn does not know (older than the pinned one) are skipped.
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application

    def _announce_ready(self, arbiter: Any) -> None:
        # The listening socket is bound when this runs; connections wait in its backlog until the
        # worker (forked right after) accepts them, so a client may connect from here on.
        host, port = arbiter.LISTENERS[0].sock.getsockname()[:2]
        print(
            f"ready http://{_format_host(host)}:{port} version={self.settings.served_version} "
            f"pid={os.getpid()} faults={self.settings.describe_faults()}",
            flush=True,
        )


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Validate the configuration, then serve until SIGTERM; returns the exit status."""
    args = build_parser().parse_args(argv)
    source: Mapping[str, str] = os.environ if env is None else env
    # Report a bad port and bad switches together, so one attempt shows everything to fix.
    problems: list[str] = []
    port = DEFAULT_PORT
    try:
        port = resolve_port(args.port, source)
    except ConfigError as exc:
        problems += exc.problems
    try:
        app = create_app(source)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        print(f"server.py: {ConfigError(problems)}", file=sys.stderr)
        return 2
    settings: Settings = app.config["SETTINGS"]
    SampleServer(app, settings, host=args.host, port=port, threads=args.threads, access_log=args.access_log).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
