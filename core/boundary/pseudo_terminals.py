"""``os.forkpty()`` (and so ``pty.fork()``): a fork whose child has a new pseudo-terminal
for its standard streams and as its controlling terminal.

The C call forks inside libc, out of our sight: recorded, its child went unrecorded;
replayed, it forked the replay for real, and the child ran on with its parent's tape
(blessed's suite: "the replay worker stopped without a report"). In both runs it is made
of calls on the boundary instead, as ``pty.fork`` makes it where ``forkpty`` is missing:
``os.openpty`` and ``os.fork``, then in the child what login_tty(3) does. The child is a
recorded process of its own, and a replay follows it as it follows any fork.
"""
from __future__ import annotations

import os

from retrace_core.boundary.wrappers import copy_identity, non_binding


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
