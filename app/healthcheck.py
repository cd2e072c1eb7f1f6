"""Container health check for the sample service: exit 0 when /health answers 200, else 1.

The Dockerfile's HEALTHCHECK runs it (the slim image has no curl); it uses only the standard
library so the image needs nothing extra. ``python healthcheck.py --port 3000``.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

DESCRIPTION = "Exit 0 when the sample service's /health answers 200, else 1."


def check(url: str, timeout_s: float) -> tuple[bool, str]:
    """GET ``url``; (healthy, one-line reason)."""
    try:
        # The URL is always http:// built from --host/--port, never a user-supplied scheme.
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # nosec B310
            return response.status == 200, f"{url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url} answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{url} unreachable: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="healthcheck.py", description=DESCRIPTION)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds (default 2)")
    args = parser.parse_args(argv)
    healthy, reason = check(f"http://{args.host}:{args.port}/health", args.timeout)
    print(reason, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
