"""The engine's own errors, kept out of the program it replays.

The engine runs inside calls the program's code makes: the tracer's callback at a line,
the player's listeners at an event, the hook at a thread's start. An exception raised
there is raised in the program's frame, as if its own line had raised it: the program
handles it or dies of it, and the replay then diverges somewhere else (pytest, dying
of it while loading its plugins, printed a traceback where the tape expected a file to
be opened), or worse, goes on with the program's results changed. So a fault of the
engine's own ends the worker instead, with one message to the controller, which raises
it as an :class:`~retrace_core.control.workers.EngineError` naming the fault; the
traceback goes to the worker's log.

A divergence is not a fault: it is a ``BaseException`` (replay/divergence.py) that is
meant to end the program, and passes through.
"""
from __future__ import annotations

import posix

from retrace_core.boundary.guard import bypass
from retrace_core.control.messages import Error

FAULT_STATUS = 70  # EX_SOFTWARE: the worker's exit status after a fault


def guarded(engine, callback):
    """``callback`` (a bound method of ``engine``) as the program's code may call it."""

    def call(*args):
        try:
            return callback(*args)
        except Exception as exc:
            fault(engine.channel, exc)

    call.__name__ = getattr(callback, "__name__", "call")
    return call


def fault(channel, exc: Exception) -> None:
    """Report ``exc`` to the controller and the worker log, and end this process."""
    try:
        with bypass():  # our own reading of sources for the traceback, not the program's
            import traceback

            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        posix.write(2, f"retrace engine fault:\n{text}".encode(errors="replace"))
    except BaseException:  # noqa: BLE001 - the report must not fail the exit
        pass
    try:
        channel.send(Error(f"the replay engine failed: {type(exc).__name__}: {exc}"))
    except BaseException:  # noqa: BLE001 - the controller may be gone already
        pass
    posix._exit(FAULT_STATUS)
