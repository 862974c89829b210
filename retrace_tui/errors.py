"""Errors a user can cause on the command line: one line, exit 2, no traceback."""


class UsageError(Exception):
    """Bad arguments or bad input; the message is the whole story."""
