"""Tracebacks the program prints itself leave out retrace's frames. Without this a
failing boundary call would show our wrapper's frame, which is not the same frame in
recording and replay (``recorded`` at one line, ``replayed`` at another), so the replay
would diverge on the printed text.

Two kinds of printer: Python's (``traceback.print_exc()``, ``logging.exception``), whose
frame walks skip our frames; and the interpreter's, in C (``sys.excepthook``, which a
program or a test may call itself, ``threading.excepthook``, which prints what a thread
raised, and ``sys.unraisablehook``, what a finalizer raised): the hooks drop our frames
from the exception first, as launch.py does for the exception a program dies of.

Not boundary calls: the same wrappers in both modes, applied by the same table.
"""
from __future__ import annotations

import types

from retrace_core.boundary.wrappers import module_function
from retrace_core.ours import is_our_file


def _without_our_frames(walk):
    def walk_program_frames(*args, **kwargs):
        for item in walk(*args, **kwargs):
            if not is_our_file(item[0].f_code.co_filename):
                yield item

    walk_program_frames.__name__ = walk_program_frames.__qualname__ = walk.__name__
    walk_program_frames.__doc__ = walk.__doc__
    walk_program_frames.__wrapped__ = walk
    return walk_program_frames


class HideOurFrames:
    """The frame walk of ``traceback`` and ``logging`` without our frames (see above)."""

    @staticmethod
    def record(entry, original, channel):
        return _without_our_frames(original)

    replay = record


def drop_our_frames(exc: BaseException | None, seen: set | None = None) -> None:
    """Drop the frames of this package (launch, boundary wrappers, the tape player) from
    ``exc`` and the exceptions chained to it, so recorded and replayed runs print what the
    program printed unrecorded."""
    seen = set() if seen is None else seen
    if not isinstance(exc, BaseException) or id(exc) in seen:
        return
    seen.add(id(exc))
    kept, total = [], 0
    tb = exc.__traceback__
    while tb is not None:
        if not is_our_file(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb, total = tb.tb_next, total + 1
    if len(kept) != total:
        rebuilt = None
        for entry in reversed(kept):
            rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
        exc.__traceback__ = rebuilt  # the C printers print the exception's own traceback
    drop_our_frames(exc.__cause__, seen)
    drop_our_frames(exc.__context__, seen)
    for inner in getattr(exc, "exceptions", None) or ():  # an exception group's
        drop_our_frames(inner, seen)


class HideOurFramesInHook:
    """``sys.excepthook(type, value, traceback)``, ``threading.excepthook(args)`` and
    ``sys.unraisablehook(unraisable)`` (the C printers): our frames dropped from the
    exception first."""

    @staticmethod
    def record(entry, original, channel):
        if entry.name == "_excepthook":  # threading's: one argument, ExceptHookArgs
            def hook(args, /):
                drop_our_frames(getattr(args, "exc_value", None))
                return original(args)
        elif entry.name == "__unraisablehook__":  # it prints the traceback it is given
            def hook(unraisable, /):
                value = getattr(unraisable, "exc_value", None)
                drop_our_frames(value)
                if isinstance(value, BaseException) and unraisable.exc_traceback is not None:
                    unraisable = type(unraisable)((unraisable.exc_type, value, value.__traceback__,
                                                   unraisable.err_msg, unraisable.object))
                return original(unraisable)
        else:
            def hook(exc_type, value, traceback, /):
                drop_our_frames(value)
                return original(exc_type, value, value.__traceback__ if isinstance(value, BaseException)
                                else traceback)
        return module_function(hook, original)

    replay = record
