"""A recorded process killed by SIGTERM keeps its last events.

The tape is flushed every 100 ms; a process whose parent terminates it (a dev server a
test stops, a pool's worker) lost what it did since the last flush, often everything it
did for the test. While the program leaves SIGTERM at its default action, the recorder
catches it: the tape's flusher thread writes the tape and the process then dies of
SIGTERM as it would have (the parent sees the same exit status), within 100 ms.

The handler is C's (csrc/signals.c), not Python's: a Python handler runs only when the
main thread comes back to the interpreter, and a pool's worker that SIGTERM reached just
before it blocked in ``sem_wait`` never ran it and never died (its parent hung in
``Pool.terminate``, 1 recording in 9 under load). Python's signal module does not know
of it: ``signal.getsignal`` says SIG_DFL, as unrecorded, and a handler the program
installs replaces it (``signal.signal`` puts ours back when the program sets SIG_DFL
again). While no flusher runs, SIGTERM kills at once, as unrecorded.

What is still lost: with SIGKILL, up to the last 100 ms.
"""
from __future__ import annotations

import posix
import signal
import threading

from retrace_core.boundary.wrappers import copy_identity, non_binding

_real_signal = signal.signal
_real_getsignal = signal.getsignal


class FlusherHooks:
    """What the tape's flusher thread does for us (core/tape/flusher.py). Its C functions
    are looked up as it is made: looked up at a tick, the lookup made a function object
    while the program ran, which a program counting its live objects counted."""

    def __init__(self, lib) -> None:
        self._flusher_running = lib.rt_sigterm_flusher_running
        self._seen = lib.rt_sigterm_seen
        self._release = lib.rt_sigterm_release

    def running(self, on: bool) -> None:
        """The flusher starts (True) or ends (False): only while it runs is SIGTERM held."""
        self._flusher_running(1 if on else 0)

    def tick(self) -> None:
        """After each flush: if SIGTERM came, die of it now (the tape is written)."""
        if self._seen():
            self._release()
            posix.kill(posix.getpid(), signal.SIGTERM)  # this thread blocks it: another dies of it


def install(writer) -> None:
    """Catch SIGTERM for ``writer``'s flusher; call from the main thread, before the
    flusher starts."""
    from retrace_core import _engine

    if threading.current_thread() is not threading.main_thread():
        return
    if _real_getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return  # the program's, or its parent's: not ours to change
    if _engine.lib.rt_sigterm_catch() != 0:
        return
    writer.flusher.hooks = FlusherHooks(_engine.lib)

    def set_signal(signalnum, handler):
        previous = _real_signal(signalnum, handler)
        if signalnum == signal.SIGTERM and handler is signal.SIG_DFL:
            _engine.lib.rt_sigterm_catch()
        return previous

    signal.signal = non_binding(copy_identity(set_signal, _real_signal))
