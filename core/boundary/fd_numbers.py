"""Recorded fd numbers made real in replay.

A replayed file or socket answers ``fileno()`` with the number it had when recorded.
When that number is free in the replay, a harmless real fd (``/dev/null``, an unbound
socket) is put on it, so C code that uses the fd behind the object (the interpreter's
traceback printer, ``select``) finds an open one instead of a closed or foreign fd.
"""
from __future__ import annotations

import errno
import fcntl
import posix
import resource

# posix's functions are never patched (only os's attributes are); fcntl's and resource's
# are taken before the patching.
_real_close, _real_dup2, _real_fstat = posix.close, posix.dup2, posix.fstat
_real_fcntl, _real_getrlimit = fcntl.fcntl, resource.getrlimit
_TOP_SPARE = 16  # descriptors left free above ours, below the process's limit

# Ours, open now (the tape, in a recorded process): the program's os.close and
# os.closerange leave them (KeepOursOpen).
OURS: set[int] = set()


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
        OURS.add(fd)
        return fd  # no room up there: where it is
    _real_close(fd)
    OURS.add(top)
    return top


def close_ours(fd: int) -> None:
    """Close one of ours (taken by :func:`out_of_the_way`)."""
    OURS.discard(fd)
    _real_close(fd)


def _without_ours(name: str, original):
    """``os.close`` / ``os.closerange`` that leave our descriptors open. They are not in a
    plain run: closing one by number fails as closing a free number does, and a range
    is closed around them. pexpect's children (ptyprocess) close every descriptor above
    2 before they exec; the tape's went with them, and the child wrote "cannot write the
    tape" into its terminal, where the test read it as the command's output."""
    if name == "close":
        def close(fd, /):
            if fd in OURS:
                raise OSError(errno.EBADF, posix.strerror(errno.EBADF))
            return original(fd)

        return close

    def closerange(low, high, /):
        start = low
        for fd in sorted(ours for ours in OURS if isinstance(low, int) and low <= ours < high):
            original(start, fd)
            start = fd + 1
        return original(start, high)

    return closerange


class KeepOursOpen:
    """``os.close`` and ``os.closerange``, recorded with our descriptors left open; replayed
    as the table's other effects (nothing is closed for real)."""

    @staticmethod
    def record(entry, original, tape):
        from retrace_core.boundary.wrappers import module_function, recording_function

        return module_function(recording_function(_without_ours(entry.name, original), tape,
                                                  entry.qualified_name, True), original)

    @staticmethod
    def replay(entry, original, player):
        from retrace_core.boundary.wrappers import module_function, replaying_function

        return module_function(replaying_function(original, player, entry.qualified_name, True), original)
