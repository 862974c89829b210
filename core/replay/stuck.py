"""A replay that waits for something its recording did not answer: noticed, not waited on.

A replay runs no real I/O, so its process is never idle for long: every wait the recording
had is answered from the tape, and a thread waiting for its turn gives up after
``TURN_TIMEOUT``. A replay process that has used no CPU at all for ``STUCK_AFTER`` seconds
is blocked in a wait of C code that nothing will end: ``signal.pause()`` for a signal that
the recording's ``os.kill`` delivered (a replay does not send it), a lock of a thread the
process does not have (a C thread in a snapshot, which is a fork). ``verify``, ``replay``
and the engine watch their worker with this and report it instead of hanging.
"""
from __future__ import annotations

import os
import posix
import time

from retrace_core.ours import STUCK_AFTER as STUCK_AFTER_VARIABLE

STUCK_AFTER = 30.0  # seconds a replay process may use no CPU before it counts as stuck


def stuck_after() -> float:
    try:
        return float(os.environ.get(STUCK_AFTER_VARIABLE) or STUCK_AFTER)
    except ValueError:
        return STUCK_AFTER


# posix's, taken at import: a replay's thread turns read a thread's CPU time too, where
# the program's open() answers from the tape.
_open, _read, _close = posix.open, posix.read, posix.close
TICKS_PER_SECOND = posix.sysconf("SC_CLK_TCK")


def cpu_ticks(stat: str) -> int | None:
    """User plus system time in clock ticks from ``stat``, a process's ``/proc/PID/stat``
    (all its threads) or a thread's ``/proc/self/task/TID/stat``; None once it is gone or
    where there is no /proc."""
    try:
        handle = _open(stat, posix.O_RDONLY)
        try:
            fields = _read(handle, 4096).rpartition(b")")[2].split()
        finally:
            _close(handle)
        return int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 of stat(5)
    except (OSError, ValueError, IndexError):
        return None


class StuckWatch:
    """``watch.stuck()``, asked now and then while waiting for ``pid``: True once the
    process has used no CPU for ``after`` seconds."""

    def __init__(self, pid: int, after: float | None = None) -> None:
        self.pid = pid
        self.after = stuck_after() if after is None else after
        self._ticks = cpu_ticks(f"/proc/{pid}/stat")
        self._since = time.monotonic()

    def stuck(self) -> bool:
        ticks, now = cpu_ticks(f"/proc/{self.pid}/stat"), time.monotonic()
        if ticks is None or ticks != self._ticks:
            self._ticks, self._since = ticks, now
            return False
        return now - self._since >= self.after

    def message(self) -> str:
        return (f"the replay is stuck: its process has used no CPU for {self.after:.0f} s, blocked in a wait "
                "that the recording did not have (a signal the recording delivered, a C-level wait)")
