"""``python -m cti.users``: staff accounts from the command line (``cti.accounts.cli``)."""

from __future__ import annotations

import sys

from cti.accounts.cli import main

if __name__ == "__main__":
    sys.exit(main())
