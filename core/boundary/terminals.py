"""Terminals: ``os.forkpty()`` (and so ``pty.fork()``), and ``fcntl.ioctl``.

``os.forkpty()`` is a fork whose child has a new pseudo-terminal for its standard streams
and as its controlling terminal.

The C call forks inside libc, out of our sight: recorded, its child went unrecorded;
replayed, it forked the replay for real, and the child ran on with its parent's tape
(blessed's suite: "the replay worker stopped without a report"). In both runs it is made
of calls on the boundary instead, as ``pty.fork`` makes it where ``forkpty`` is missing:
``os.openpty`` and ``os.fork``, then in the child what login_tty(3) does. The child is a
recorded process of its own, and a replay follows it as it follows any fork.

``fcntl.ioctl`` asks a descriptor's driver (a terminal's window size, the bytes waiting on
a socket), which a replay does not have open: it is an event, and where the call fills
the program's buffer in place, what it wrote there is kept and written again in a replay.
(termios' calls are plain events: see table.py.)
"""
from __future__ import annotations

import os

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, copy_identity, module_function, non_binding


def _forkpty() -> tuple[int, int]:
    # The patched os functions, looked up now: each call is an event of the process making it.
    master_fd, slave_fd = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.close(master_fd)
        os.setsid()
        for standard in (0, 1, 2):
            os.dup2(slave_fd, standard)
        if slave_fd > 2:
            os.close(slave_fd)
        # A session leader without a controlling terminal that opens one gets it (Linux),
        # as login_tty's TIOCSCTTY gives it.
        os.close(os.open(os.ttyname(1), os.O_RDWR))
    else:
        os.close(slave_fd)
    return pid, master_fd


class ForkPty:
    """``os.forkpty``: no event of its own; its parts are events."""

    @staticmethod
    def record(entry, original, tape):
        return non_binding(copy_identity(_forkpty, original))

    @staticmethod
    def replay(entry, original, player):
        return non_binding(copy_identity(_forkpty, original))


def _filled(arg, mutate_flag) -> bool:
    """Whether ioctl writes its result into ``arg``: a writable buffer, mutate_flag set."""
    if not mutate_flag or isinstance(arg, (int, str, bytes)):
        return False
    try:
        return not memoryview(arg).readonly
    except TypeError:
        return False


def _shown(fd, request, arg, filled: bool) -> tuple:
    number = fd if isinstance(fd, int) else fd.fileno()
    return (number, request, bytes(memoryview(arg)) if filled else arg)


class Ioctl:
    """``fcntl.ioctl(fd, request, arg=0, mutate_flag=True)``: event ``(fd, request, arg) ->
    result``, or ``[result, the buffer's bytes after]`` when it filled ``arg``."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)

        def ioctl(fd, request, arg=0, mutate_flag=True, /):
            if guard.busy:
                return original(fd, request, arg, mutate_flag)
            filled = _filled(arg, mutate_flag)
            shown = _shown(fd, request, arg, filled)
            return record(headers, tape, lambda: original(fd, request, arg, mutate_flag), shown,
                          keep=(lambda result: [result, bytes(memoryview(arg))]) if filled else None)

        return module_function(ioctl, original)

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name

        def ioctl(fd, request, arg=0, mutate_flag=True, /):
            if guard.busy:
                return original(fd, request, arg, mutate_flag)
            filled = _filled(arg, mutate_flag)
            value = player.answer(name, _shown(fd, request, arg, filled))
            if not filled:
                return value
            result, content = value
            memoryview(arg).cast("B")[:len(content)] = content
            return result

        return module_function(ioctl, original)
