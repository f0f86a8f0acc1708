"""``python -m cyclr`` and the ``cyclr`` console script; see :mod:`cyclr.cli`."""

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
