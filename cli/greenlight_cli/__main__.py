"""`python -m greenlight_cli` runs the `greenlight` command line."""

import sys

from greenlight_cli.main import main

sys.exit(main())
