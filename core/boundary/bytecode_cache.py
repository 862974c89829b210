"""Python's bytecode cache, written by the import system: not the program's doing.

Importing a module whose ``__pycache__`` file is missing or stale writes one
(``SourceFileLoader.set_data``: a temporary file through ``io.FileIO``, then a rename).
Recorded, those writes were events; a replay loads the program's modules from the
recording and writes no cache, so the first recording after an edit (or of a fresh
checkout) diverged at once: "the tape expected io.FileIO(4, 'wb'), the program asked for
time.time()". Hidden in our test runs, which set PYTHONDONTWRITEBYTECODE. The write now
runs under the guard in both modes: for real, and off the tape.
"""
from __future__ import annotations

from retrace_core.boundary.fingerprints import fingerprint
from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, copy_identity


class Unrecorded:
    """The same wrapper recorded and replayed: the original, under the guard."""

    @staticmethod
    def record(entry, original, channel):
        def set_data(*arguments, **options):
            if guard.busy:
                return original(*arguments, **options)
            guard.busy = True
            try:
                return original(*arguments, **options)
            finally:
                guard.busy = False

        set_data.__name__ = set_data.__qualname__ = getattr(original, "__name__", "set_data")
        return set_data

    replay = record


class WrittenAtomically:
    """``importlib._bootstrap_external._write_atomic(path, data, mode)``, called by the
    program (``py_compile``, ``compileall``): one event, the path, a fingerprint of the
    bytes and the mode. It opens its temporary file with importlib's own ``posix.open``,
    which no wrapper sees, and only the ``FileIO`` on that descriptor was an event: a
    replay opened the file for real, in a folder that the recording made and a replay
    does not have (pytest's suite: "the tape expected io.FileIO(11, 'wb')"), or wrote into
    the real one. Replayed, nothing is written. (The import system's own writes of its
    cache come through ``set_data``, above, under the guard.)"""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)

        def _write_atomic(path, data, mode=0o666):
            if guard.busy:
                return original(path, data, mode)
            return record(headers, tape, lambda: original(path, data, mode), _shown(path, data, mode))

        return copy_identity(_write_atomic, original)

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name

        def _write_atomic(path, data, mode=0o666):
            if guard.busy:
                return original(path, data, mode)
            return player.answer(name, _shown(path, data, mode))

        return copy_identity(_write_atomic, original)


def _shown(path, data, mode) -> tuple:
    try:
        written = fingerprint(memoryview(data))
    except TypeError:  # not bytes: the real call raises for it
        written = None
    return (path, written, mode)
