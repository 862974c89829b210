"""Code the program wrote and then imports: its bytes on the tape.

A program that writes a module and imports it (mako's ``module_directory=``, jinja2's
``compile_templates(zip=...)`` then ``ModuleLoader``) has importlib read the file with
``_io.open_code`` (``SourceFileLoader.get_data``, zipimport), which reads for real. In a
replay the program's writes are not performed, so the file is not there, the import fails,
and the replay goes another way.

So ``_io.open_code`` is a boundary call for the files the program opened for writing in
this run: recorded, it reads the whole file and keeps its bytes; replayed, it answers with
them. So is importlib's ``_path_stat`` (``posix.stat``, which we leave unpatched): the
finders and zipimport ask whether the file is there before they read it. Which files those are is known the same way in both runs, from the program's own
``open()`` calls (files.py notes each one that can write). Every other file (the standard
library, site-packages, the project's sources) is read for real, as before: their bytes do
not go on the tape.
"""
from __future__ import annotations

import io
import os
import posix

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, copy_identity, non_binding

__tracebackhide__ = True

FUNCTION = "io.open_code"
STAT = "importlib._path_stat"
_WRITING = frozenset("wax+")

# Absolute paths of the files the program opened for writing (as it named them).
written: set[str] = set()


def _absolute(path: str) -> str:
    # posix.getcwd, not os.getcwd: that is a recorded call, and this is our own bookkeeping.
    return path if os.path.isabs(path) else os.path.join(posix.getcwd(), path)


def note_opened(file: object, mode: str) -> None:
    """files.py, after the program's ``open(file, mode)`` succeeded (in both runs)."""
    if _WRITING.isdisjoint(mode):
        return
    try:
        path = os.fsdecode(file)
    except TypeError:
        return  # an fd: no name to import by
    written.add(os.path.normpath(_absolute(path)))


def _was_written(path: object) -> bool:
    if not written or guard.busy:
        return False
    try:
        return os.path.normpath(_absolute(os.fsdecode(path))) in written
    except (TypeError, ValueError):
        return False


def _read(original, path) -> bytes:
    with original(path) as handle:
        return handle.read()


def _recorded_for_written(name: str, run, give, stand_in=lambda wrapper: wrapper):
    """A table special for a call taped only when its path is a file the program wrote:
    recorded, ``run(original, path)`` runs it and the tape keeps the result; replayed, the
    tape answers. ``give(result)`` is what the program gets in both."""

    class Special:
        @staticmethod
        def record(entry, original, tape):
            headers = Headers(tape, name, True)

            def recorded(path):
                if not _was_written(path):
                    return original(path)
                return give(record(headers, tape, lambda: run(original, path), (os.fsdecode(path),)))

            return stand_in(copy_identity(recorded, original))

        @staticmethod
        def replay(entry, original, player):
            def replayed(path):
                if not _was_written(path):
                    return original(path)
                return give(player.answer(name, (os.fsdecode(path),)))

            return stand_in(copy_identity(replayed, original))

    return Special


# ``_io.open_code(path)``: a file object the import system reads code from (a built-in).
OpenCode = _recorded_for_written(FUNCTION, _read, io.BytesIO, non_binding)
# importlib's ``_path_stat(path)`` (``_frozen_importlib_external``; zipimport uses it).
PathStat = _recorded_for_written(STAT, lambda original, path: original(path), lambda result: result)
