"""Wrappers for plain table entries: one that records, one that replays.

The recording wrapper is the recorder's hot path: one guard check, the real call, one tape
append. Module-level functions are wrapped in ``staticmethod`` so that, like the
built-ins they replace, they do not bind when stored as a class attribute
(``logging.Formatter.converter = time.localtime`` must keep working).
"""
from __future__ import annotations


from retrace_core.boundary.guard import guard
from retrace_core.tape import codec, format

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True


class Headers:
    """The precomputed event header bytes of one interned function."""

    __slots__ = ("returned", "raised")

    def __init__(self, tape, name: str, arguments: bool) -> None:
        fid = tape.define(name, format.HAS_ARGS if arguments else 0)
        self.returned = codec.packb(format.event_header(fid, format.RETURNED))
        self.raised = codec.packb(format.event_header(fid, format.RAISED))


def call_arguments(args: tuple, kwargs: dict) -> object:
    """What the tape keeps of a call's arguments: the tuple, or [args, kwargs]."""
    return [args, kwargs] if kwargs else args


def recording_function(original: Callable, tape, name: str, arguments: bool, leaf: bool = False) -> Callable:
    """A plain function that records every call of ``original`` (binds like a function)."""
    headers = Headers(tape, name, arguments)
    ok, bad = headers.returned, headers.raised

    if leaf and not arguments:
        def recorded(*args):
            if guard.busy:
                return original(*args)
            try:
                result = original(*args)
            except BaseException as exc:
                tape.raised(bad, None, exc)
                raise
            tape.returned(ok, result)
            return result
    elif arguments:
        def recorded(*args, **kwargs):
            if guard.busy:
                return original(*args, **kwargs)
            guard.busy = True
            try:
                result = original(*args, **kwargs)
            except BaseException as exc:
                guard.busy = False
                tape.raised(bad, call_arguments(args, kwargs), exc)
                raise
            guard.busy = False
            tape.returned_with_arguments(ok, call_arguments(args, kwargs), result)
            return result
    else:
        def recorded(*args, **kwargs):
            if guard.busy:
                return original(*args, **kwargs)
            guard.busy = True
            try:
                result = original(*args, **kwargs)
            except BaseException as exc:
                guard.busy = False
                tape.raised(bad, None, exc)
                raise
            guard.busy = False
            tape.returned(ok, result)
            return result

    return copy_identity(recorded, original)


def replaying_function(original: Callable, player, name: str, arguments: bool) -> Callable:
    """A plain function that answers every call from the tape instead of running ``original``."""
    answer = player.answer

    if arguments:
        def replayed(*args, **kwargs):
            if guard.busy:
                return original(*args, **kwargs)
            return answer(name, call_arguments(args, kwargs))
    else:
        answer_plain = player.answer_plain

        def replayed(*args, **kwargs):
            if guard.busy:
                return original(*args, **kwargs)
            return answer_plain(name)

    return copy_identity(replayed, original)


def copy_identity(wrapper: Callable, original: Callable) -> Callable:
    for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
        try:
            setattr(wrapper, attribute, getattr(original, attribute))
        except (AttributeError, TypeError):
            pass
    wrapper.__wrapped__ = original
    return wrapper


def non_binding(function: Callable) -> Callable:
    """Make a Python function behave like a built-in when stored on a class."""
    wrapped = staticmethod(function)
    return wrapped
