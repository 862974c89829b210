"""Nothing outlives the controller: an active worker dies with its parent."""
from __future__ import annotations

import posix
import signal

from retrace_core import _engine


def die_with_parent(parent: int | None = None) -> None:
    """PR_SET_PDEATHSIG(SIGKILL), and exit at once if the parent is already gone."""
    parent = posix.getppid() if parent is None else parent
    _engine.lib.rt_die_with_parent(signal.SIGKILL)
    if posix.getppid() != parent:
        posix._exit(1)
