"""The program's callbacks that SQLite calls: run again in a replay, with what they got.

A connection calls back into the program from inside its calls: a trace callback gets
each statement, a progress handler is called every N instructions, an authorizer is asked
about each action, a function or a collation the program created runs on rows. A replay
runs no statement, so none of them was called, and what they did to the program (a list of
statements a test then asserts on: aiosqlite's ``test_set_trace_callback``) was missing.

Recording, each callback registered with ``set_trace_callback``, ``set_progress_handler``,
``set_authorizer``, ``create_function`` or ``create_collation`` is wrapped: a call notes
``[registration, arguments]`` on its connection. Once a connection has one, every recorded
call of it and of its cursors keeps ``[outcome, calls noted during it]`` instead of the
outcome. Replaying, a registration is only noted (SQLite gets none: the replay's in-memory
database must not call the program for the statements the replay makes itself), and after a
call is answered the noted calls run, in order, with the recorded arguments. They run under
the guard, as they ran inside the recorded call: their own boundary calls are real calls in
both runs. What SQLite did with their results (a denied action, an aborted statement, a
function's value) is in the recorded outcome. Not replayed: callbacks of a call that raised
(the tape keeps its exception), aggregates and window functions (objects SQLite makes).
"""
from __future__ import annotations

import _sqlite3

from retrace_core.boundary.guard import guard

__tracebackhide__ = True

_Connection = _sqlite3.Connection


def _wrapped(connection, callback):
    """``callback`` noting each call on ``connection``, under the next registration number."""
    if callback is None:
        return None
    calls = connection._retrace_calls
    if calls is None:
        calls = connection._retrace_calls = [0, []]  # [registrations so far, calls of the current call]
    number = calls[0]
    calls[0] += 1
    noted = calls[1]

    def called(*args):
        noted.append([number, list(args)])
        return callback(*args)

    return called


def kept_with_calls(connection, keep):
    """The ``keep`` of a recorded call of ``connection``: with the calls noted during it, once
    the connection has callbacks (their list is emptied first, by the caller's start)."""
    calls = getattr(connection, "_retrace_calls", None)
    if calls is None:
        return keep
    del calls[1][:]

    def kept(result):
        return [result if keep is None else keep(result), list(calls[1])]

    return kept


def answered(connection, value):
    """The recorded outcome of a replayed call; the callbacks it called run first."""
    registered = getattr(connection, "_retrace_calls", None)
    if registered is None:
        return value
    outcome, calls = value
    previous, guard.busy = guard.busy, True
    try:
        for number, args in calls:
            callback = registered.get(number)
            if callback is not None:
                try:
                    callback(*args)
                except Exception:  # SQLite turned it into the outcome the tape holds
                    pass
    finally:
        guard.busy = previous
    return outcome


def _registered(connection, callback) -> None:
    """Replaying: the program's callback, under the number the recording gave it."""
    if callback is None:
        return  # the recording numbered none either (and SQLite calls none from now on)
    registered = connection._retrace_calls
    if registered is None:
        registered = connection._retrace_calls = {}
    registered[len(registered)] = callback


class RecordedCallbacks:
    """The registrations of a recorded connection: SQLite gets the noting wrappers."""

    __slots__ = ()

    def set_trace_callback(self, trace_callback):
        return _Connection.set_trace_callback(self, _wrapped(self, trace_callback))

    def set_progress_handler(self, progress_handler, n):
        return _Connection.set_progress_handler(self, _wrapped(self, progress_handler), n)

    def set_authorizer(self, authorizer_callback):
        return _Connection.set_authorizer(self, _wrapped(self, authorizer_callback))

    def create_function(self, name, narg, func, *, deterministic=False):
        return _Connection.create_function(self, name, narg, _wrapped(self, func), deterministic=deterministic)

    def create_collation(self, name, callback, /):
        return _Connection.create_collation(self, name, _wrapped(self, callback))


class ReplayedCallbacks:
    """The registrations of a replayed connection: noted, never given to SQLite."""

    __slots__ = ()

    def set_trace_callback(self, trace_callback):
        _registered(self, trace_callback)

    def set_progress_handler(self, progress_handler, n):
        _registered(self, progress_handler)

    def set_authorizer(self, authorizer_callback):
        _registered(self, authorizer_callback)

    def create_function(self, name, narg, func, *, deterministic=False):
        _registered(self, func)

    def create_collation(self, name, callback, /):
        _registered(self, callback)
