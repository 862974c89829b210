"""``sqlite3.connect``: connections whose every call is an event (see ``sqlite_connections``).

This module is imported in every process before the program runs, so it imports nothing
of sqlite3: the connection classes, subclasses of ``_sqlite3``'s, are made only once the
program imports ``sqlite3``.
"""
from __future__ import annotations

from retrace_core.boundary.guard import guard
from retrace_core.boundary.wrappers import copy_identity, non_binding

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True


def _connection_class(connections, args: tuple, kwargs: dict, own: type) -> type | None:
    """The class ``connect`` makes: ours, or the program's ``factory`` over ours (None for a
    factory that is no ``Connection`` subclass: then the connection is not recorded)."""
    base = connections._Connection
    factory = args[5] if len(args) > 5 else kwargs.get("factory", base)
    if factory is base:
        return own
    if isinstance(factory, type) and issubclass(factory, base):
        return connections._combined(factory, own)
    return None


def _connect(original, connections, own: type):
    def connect(database, *args, **kwargs):
        cls = None if guard.busy else _connection_class(connections, args, kwargs, own)
        if cls is None:
            return original(database, *args, **kwargs)
        return cls(database, *args, **kwargs)

    return non_binding(copy_identity(connect, original))


class Connect:
    """``sqlite3.connect``: event ``sqlite3.connect(database, options) -> connection serial``."""

    @staticmethod
    def record(entry, original, tape):
        from retrace_core.boundary import sqlite_connections as connections

        connections._events = connections._Events(tape)
        connections._unsupported_blobopen(connections.RecordedConnection, "record", tape)
        return _connect(original, connections, connections.RecordedConnection)

    @staticmethod
    def replay(entry, original, player):
        from retrace_core.boundary import sqlite_connections as connections

        connections._player = player
        connections._unsupported_blobopen(connections.ReplayedConnection, "replay", player)
        return _connect(original, connections, connections.ReplayedConnection)
