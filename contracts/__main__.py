"""`python -m contracts` = the `contracts` command."""

import sys

from contracts.cli import main

sys.exit(main())
