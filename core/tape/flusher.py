"""The tape's private flusher thread: it writes what the writer has buffered every
``FLUSH_INTERVAL``, so that a process killed with SIGKILL leaves a tape readable up to its
last flush.

Started with ``_thread`` so that ``threading.enumerate()`` does not show it; stopped around
``os.fork()`` so that the program's forks see the thread count they would see unrecorded.
It runs while the program runs, so it makes no object that lives while the program may
look: a program that counts its live objects (``gc.get_objects``: greenlet's leak checks,
objgraph) would otherwise count one of ours now and then.
"""
from __future__ import annotations

import _thread
import os
import signal
import sys
import time

from retrace_core.boundary.guard import guard
from retrace_core.ours import OUR_THREADS

# Taken before patching: the flusher's own locks, thread and clock make no events.
_allocate_lock = _thread.allocate_lock
_start_new_thread = _thread.start_new_thread
_get_ident = _thread.get_ident
_block_signals = signal.pthread_sigmask
_ALL_SIGNALS = signal.valid_signals()
_thread_time = time.thread_time
_os_listdir = os.listdir

FLUSH_INTERVAL = 0.1


class Flusher:
    """One writer's flusher thread, while it runs."""

    def __init__(self) -> None:
        self._stop = None  # released to stop the thread
        self._done = None  # released by the thread as it ends
        # running(bool) as the flusher starts and ends, tick() after each flush (termination.py)
        self.hooks = None
        # The flusher's CPU seconds as of its last round: process_time() leaves them out (clocks.py).
        self.cpu = 0.0

    def start(self, flush) -> None:
        """Start the thread, which calls ``flush()`` every FLUSH_INTERVAL."""
        stop = _allocate_lock()
        stop.acquire()
        done = _allocate_lock()
        done.acquire()
        self._stop, self._done = stop, done
        self.cpu = 0.0  # a new thread (in a forked child, whose CPU times start at 0 too)
        # Born with every signal blocked: a signal landing here would leave the main
        # thread's blocking call (a sleep, a read) unwoken until it returned.
        previous = _block_signals(signal.SIG_BLOCK, _ALL_SIGNALS)
        try:
            _start_new_thread(self._loop, (flush, stop, done))
        finally:
            _block_signals(signal.SIG_SETMASK, previous)

    def _loop(self, flush, stop, done) -> None:
        # Whatever runs here runs for us: the program's tracers are not called for it
        # (bootstrap/program_tracers.py), and a boundary call made here is not recorded.
        OUR_THREADS.add(_get_ident())
        guard.busy = True
        hooks = self.hooks
        try:
            if hooks is not None:
                hooks.running(True)
            # A keyword: an argument tuple would live through the wait, a dict of atoms is untracked.
            while not stop.acquire(timeout=FLUSH_INTERVAL):
                flush()
                if hooks is not None:
                    hooks.tick()
                self.cpu = _thread_time()
        except BaseException:
            pass  # interpreter shutdown; close() flushes what is left
        finally:
            OUR_THREADS.discard(_get_ident())
            try:
                if hooks is not None:
                    hooks.running(False)
            finally:
                done.release()

    def stop(self) -> bool:
        """Stop the thread and wait until it is gone; False when none ran."""
        stop, done = self._stop, self._done
        if stop is None:
            return False
        self._stop = self._done = None
        stop.release()
        done.acquire()
        _wait_for_thread_exit()
        return True

    def forget(self) -> None:
        """In a forked child: the thread does not exist here."""
        self._stop = self._done = None


def _wait_for_thread_exit() -> None:
    """Give the flusher's OS thread a moment to vanish after it said it was done.

    Python 3.12 warns at ``os.fork()`` when the process has more than one OS thread;
    a recorded program must not see a warning its plain run would not.
    """
    if not sys.platform.startswith("linux"):
        return
    for _ in range(200):
        try:
            if len(_os_listdir("/proc/self/task")) <= _thread._count() + 1:
                return
        except OSError:
            return
        _allocate_lock().acquire(timeout=0.0002)
