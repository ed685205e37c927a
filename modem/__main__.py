"""`python -m modem`: see modem/cli.py."""

import sys

from modem.cli import main

sys.exit(main())
