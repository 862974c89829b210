"""Recorded fd numbers made real in replay.

A replayed file or socket answers ``fileno()`` with the number it had when recorded.
When that number is free in the replay, a harmless real fd (``/dev/null``, an unbound
socket) is put on it, so C code that uses the fd behind the object (the interpreter's
traceback printer, ``select``) finds an open one instead of a closed or foreign fd.
"""
from __future__ import annotations

import posix

# posix's functions are never patched (only os's attributes are).
_real_close, _real_dup2, _real_fstat = posix.close, posix.dup2, posix.fstat


def place_on(fd: int, wanted: object) -> int:
    """Move ``fd`` onto ``wanted`` if that number is free; the number ``fd`` now has."""
    if wanted == fd or not isinstance(wanted, int) or wanted < 3:
        return fd
    try:
        _real_fstat(wanted)
        return fd  # in use by something else: leave it alone
    except OSError:
        pass
    _real_dup2(fd, wanted, inheritable=False)
    _real_close(fd)
    return wanted
