"""`python -m greenlight_twin ACTION ...`: the same as `greenlight twin ACTION ...` (play, up, deploy, stop, down)."""

from __future__ import annotations

import sys

from greenlight_cli.main import main

if __name__ == "__main__":
    sys.exit(main(["twin", *sys.argv[1:]]))
