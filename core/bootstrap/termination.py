"""A recorded process killed by SIGTERM keeps its last events.

The tape is flushed every 100 ms; a process whose parent terminates it (a dev server a
test stops, a pool's worker) lost what it did since the last flush, often everything it
did for the test. While the program leaves SIGTERM at its default action, the recorder
handles it: it flushes the tape and then dies of SIGTERM as it would have (the parent
sees the same exit status). The handler is hidden from the program: ``signal.getsignal``
and ``signal.signal`` report the default action where ours stands, so a program that
looks or installs its own sees what it would see unrecorded.

What is still lost: with SIGKILL, up to the last 100 ms; with SIGTERM, events of a main
thread blocked in C code that never returns to Python (the handler runs between Python
bytecodes) — the process is then killed by whoever follows SIGTERM with SIGKILL.
"""
from __future__ import annotations

import posix
import signal
import threading

from retrace_core.boundary.wrappers import copy_identity, non_binding

_real_signal = signal.signal
_real_getsignal = signal.getsignal


def install(flush) -> None:
    """Flush with ``flush()`` before dying of SIGTERM; call from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    if _real_getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def on_sigterm(signum, frame):
        try:
            flush()
        finally:
            _real_signal(signal.SIGTERM, signal.SIG_DFL)
            posix.kill(posix.getpid(), signal.SIGTERM)

    def getsignal(signalnum):
        handler = _real_getsignal(signalnum)
        return signal.SIG_DFL if handler is on_sigterm else handler

    def set_signal(signalnum, handler):
        previous = _real_signal(signalnum, handler)
        return signal.SIG_DFL if previous is on_sigterm else previous

    _real_signal(signal.SIGTERM, on_sigterm)
    signal.getsignal = non_binding(copy_identity(getsignal, _real_getsignal))
    signal.signal = non_binding(copy_identity(set_signal, _real_signal))
