"""Errors a user can cause by handing us a bad recording."""


class RecordingError(Exception):
    """A missing, unreadable, corrupt or incompatible recording.

    The message is one line meant for the user; commands print it and exit 2.
    """
