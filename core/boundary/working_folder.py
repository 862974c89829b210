"""The program's working folder, the same in both runs.

A replay does not change folder: ``os.chdir`` is an effect answered from the tape (the
folder may not be there on the replaying machine, or not any more). But our own
bookkeeping resolves the relative paths the program names: written_code.py decides by a
file's absolute path whether the program wrote it, and so whether importlib's read of it
goes to the tape. Resolved against the replay's folder instead of the program's, a path
named another file: pytester's test ``chdir``s into its temporary folder, writes
``orphan.py`` and ``py_compile.compile("orphan.py")``s it; the recording read it from the
tape, the replay looked in the folder it started in, found nothing and raised.

So ``os.chdir`` and ``os.fchdir`` keep, as their result on the tape, the folder they went
to (``posix.getcwd()`` right after the call; the program still gets None), and both runs
take the program's folder from there. A recording made before kept None: its replay joins
the path it was given to the folder before.

importlib resolves relative names too, with its own ``_os.getcwd()`` (``posix``): a
``sys.path`` entry ``"tests"`` (pytester's ``syspathinsert("tests")``) becomes a finder of
``<working folder>/tests``. A replay gives importlib the program's folder
(:func:`replay_starts_in`), so its finders are the recording's.
"""
from __future__ import annotations

import _frozen_importlib_external as _bootstrap_external
import os
import posix
import types

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, call_arguments, copy_identity, module_function

__tracebackhide__ = True

# The program's working folder once it changed folder or a replay started; before, the
# real one (a recording's) is the program's.
_current: str | None = None


def current() -> str:
    """The folder the program is in (posix, not os: os.getcwd is a recorded call)."""
    return _current if _current is not None else posix.getcwd()


def replay_starts_in(folder: str | None) -> None:
    """The replay starts where the recording started (the header's ``cwd``), whether or
    not the replay could go there."""
    global _current
    _current = folder or None
    seen_by_importlib = types.ModuleType(posix.__name__, posix.__doc__)
    seen_by_importlib.__dict__.update(posix.__dict__)
    seen_by_importlib.getcwd = current
    _bootstrap_external._os = seen_by_importlib


def _went_to(kept: object, args: tuple, kwargs: dict) -> None:
    global _current
    if isinstance(kept, str):
        _current = kept
        return
    target = args[0] if args else kwargs.get("path", kwargs.get("fd"))
    try:
        target = os.fsdecode(target)
    except TypeError:
        return  # a descriptor, in a recording made before: no name to follow
    try:
        _current = os.path.normpath(os.path.join(current(), target))
    except OSError:
        pass


def _folder_now(args: tuple, kwargs: dict) -> str | None:
    try:
        kept = posix.getcwd()
    except OSError:  # the folder went while we were in it: follow the name
        kept = None
    _went_to(kept, args, kwargs)
    return kept


class ChangeFolder:
    """``os.chdir`` / ``os.fchdir``: recorded with the folder they went to; replayed, the
    program's folder moves there and nothing else happens."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)

        def changed(*args, **kwargs):
            return record(headers, tape, lambda: original(*args, **kwargs), call_arguments(args, kwargs),
                          keep=lambda result: _folder_now(args, kwargs))

        return module_function(copy_identity(changed, original), original)

    @staticmethod
    def replay(entry, original, player):
        name, answer = entry.qualified_name, player.answer

        def changed(*args, **kwargs):
            if guard.busy:
                return original(*args, **kwargs)
            _went_to(answer(name, call_arguments(args, kwargs)), args, kwargs)
            return None

        return module_function(copy_identity(changed, original), original)
