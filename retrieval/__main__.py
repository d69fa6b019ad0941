"""Run the retrieval command line: `python -m retrieval --help`."""

import sys

from .cli.cli import main

sys.exit(main())
