"""One thread that talks to the engine, so the UI's event loop never waits on it.

The engine (a `Debugger` over a `Session`) is not thread-safe and every call blocks, so
all calls go through this one thread, in order. Scrubbing the timeline sends a move per
key press; a move still waiting when a newer one of the same kind arrives is dropped,
so the debugger never works through a queue of stale positions.
"""
from __future__ import annotations

import threading
from collections import deque
from typing import Callable


class EngineThread:
    """Runs the engine's blocking calls one at a time off the UI's thread, so the screen
    keeps drawing (and Esc can cancel) while a move replays."""

    def __init__(self, deliver: Callable[[Callable[[], None]], None]) -> None:
        """``deliver(callback)`` runs a callback on the UI's thread (App.call_from_thread)."""
        self._deliver = deliver
        self._pending: deque[tuple[str | None, Callable, Callable, Callable]] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self.busy = False  # a call is running (the app shows progress and lets Esc cancel it)
        self.running: Callable | None = None  # that call (what a stalled test reports)
        self._thread = threading.Thread(target=self._loop, name="retrace-engine", daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[], object], done: Callable[[object], None],
               failed: Callable[[BaseException], None], coalesce: str | None = None) -> None:
        """Run ``call()`` on the engine thread; then ``done(result)`` or ``failed(error)``
        on the UI thread. A waiting call with the same ``coalesce`` key is replaced."""
        with self._wake:
            if coalesce is not None:
                for item in list(self._pending):
                    if item[0] == coalesce:
                        self._pending.remove(item)
            self._pending.append((coalesce, call, done, failed))
            self._wake.notify()

    def idle(self) -> bool:
        with self._wake:
            return not self._pending and not self.busy

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                _key, call, done, failed = self._pending.popleft()
                self.busy, self.running = True, call
            try:
                try:
                    result = call()
                except BaseException as error:  # the UI decides how to show it
                    self._deliver(lambda error=error: failed(error))
                else:
                    self._deliver(lambda result=result: done(result))
            except Exception:
                # A callback that failed on the UI's side has been reported there; this
                # thread must live on, or every later move would wait for ever.
                pass
            finally:
                with self._wake:
                    self.busy, self.running = False, None

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._pending.clear()
            self._wake.notify()
