"""`python -m services.cli` is `isf`."""

import sys

from .commands import main

sys.exit(main())
