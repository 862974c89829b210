"""Libraries that do their own I/O in C, past the boundary: TLS and SQLite.

``ssl`` reads and writes the socket's fd in C, and ``sqlite3`` its database files, so
neither shows up as boundary calls. Recording goes on, with one warning and a marker on
the tape; a replay that reaches the same call stops there with a divergence that says
why, instead of hanging on a TLS handshake or writing a real database.
"""
from __future__ import annotations

import os

from retrace_core.boundary.guard import guard
from retrace_core.tape import format

_WHY = {
    "ssl.SSLContext.wrap_socket": "TLS traffic is encrypted and sent by the ssl module in C",
    "ssl.SSLContext.wrap_bio": "TLS traffic is encrypted by the ssl module in C",
    "sqlite3.dbapi2.connect": "SQLite reads and writes its database files in C",
}
_warned: set[str] = set()


def why(name: str) -> str:
    return _WHY.get(name, "this library does its own I/O in C")


class Unsupported:
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
