"""Calls past the boundary that retrace does not record: today sqlite3's
``Connection.blobopen`` (incremental blob I/O, which reads and writes the database file
in C; sqlite_connections.py records the rest of sqlite3).

Recording goes on, with one warning and a marker on the tape; a replay that reaches the
same call stops there with a divergence that says why, instead of reading or writing a
real database.
"""
from __future__ import annotations

import os

from retrace_core.boundary.guard import guard
from retrace_core.tape import format

_WHY = {
    "sqlite3.Connection.blobopen": "SQLite reads and writes the blob in its database file in C",
}
_warned: set[str] = set()


def why(name: str) -> str:
    return _WHY.get(name, "this library does its own I/O in C")


class Unsupported:
    """A call that is not recorded: recording warns once and marks the tape; a replay that
    reaches it stops with a divergence that says why."""

    @staticmethod
    def record(entry, original, tape):
        name = entry.qualified_name

        def recorded(*args, **kwargs):
            if not guard.busy and name not in _warned:
                _warned.add(name)
                tape.control([format.MARKER, "unsupported", {"call": name}])
                try:
                    os.write(2, f"retrace: {name}: {why(name)}, which retrace does not record; "
                                f"a replay will stop here\n".encode())
                except OSError:
                    pass
            return original(*args, **kwargs)

        return _named(recorded, original, entry)

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name

        def replayed(*args, **kwargs):
            if guard.busy:
                return original(*args, **kwargs)
            player.unsupported(name, why(name))

        return _named(replayed, original, entry)


def _named(function, original, entry):
    function.__name__ = function.__qualname__ = entry.name.rpartition(".")[2]
    function.__doc__ = getattr(original, "__doc__", None)
    function.__wrapped__ = original
    return function
