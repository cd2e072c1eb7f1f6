"""`python -m greenlight` runs the command line."""

import sys

from greenlight.cli.main import main

sys.exit(main())
