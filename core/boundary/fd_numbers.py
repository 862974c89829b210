"""Recorded fd numbers made real in replay.

A replayed file or socket answers ``fileno()`` with the number it had when recorded.
When that number is free in the replay, a harmless real fd (``/dev/null``, an unbound
socket) is put on it, so C code that uses the fd behind the object (the interpreter's
traceback printer, ``select``) finds an open one instead of a closed or foreign fd.
"""
from __future__ import annotations

import fcntl
import posix
import resource

# posix's functions are never patched (only os's attributes are); fcntl's and resource's
# are taken before the patching.
_real_close, _real_dup2, _real_fstat = posix.close, posix.dup2, posix.fstat
_real_fcntl, _real_getrlimit = fcntl.fcntl, resource.getrlimit
_TOP_SPARE = 16  # descriptors left free above ours, below the process's limit


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


def out_of_the_way(fd: int) -> int:
    """``fd``, one of ours, moved near the top of the process's range (close-on-exec); the
    number it now has. The program's own descriptors then get the numbers a plain run gives
    them, recorded and replayed alike: a recorded program printed ``name=4`` where a plain
    one printed 3 (the tape held 3), and the engine's socket held 3 in a replay, where the
    interpreter's traceback printer read the program's recorded descriptor 3, and waited."""
    try:
        soft = _real_getrlimit(resource.RLIMIT_NOFILE)[0]
        top = _real_fcntl(fd, fcntl.F_DUPFD_CLOEXEC, max(3, min(soft, 1024) - _TOP_SPARE))
    except (OSError, ValueError):
        return fd  # no room up there: where it is
    _real_close(fd)
    return top
