"""The error every ``cyclr`` command reports as a usage error, with exit status 2.

:func:`cyclr.cli.main` catches it and prints ``cyclr CMD: error: ...``; the commands'
modules raise it for a bad option, a value the core rejects, or a file that cannot be
read or written.
"""

from __future__ import annotations


class UsageError(Exception):
    """A bad argument, file or value: reported as ``cyclr CMD: error: ...``, exit 2.

    Args:
        message: the one-line error.
        usage: print the command's usage before it (for a bad option, not for a file
            that cannot be read or written).
    """

    def __init__(self, message: str, *, usage: bool = True):
        super().__init__(message)
        self.usage = usage

