"""Wrappers for plain table entries: one that records, one that replays.

The recording wrapper is the recorder's hot path: one guard check, the real call, one tape
append. Module-level functions are wrapped in ``staticmethod`` so that, like the
built-ins they replace, they do not bind when stored as a class attribute
(``logging.Formatter.converter = time.localtime`` must keep working).
"""
from __future__ import annotations

import sys

from retrace_core.boundary.guard import guard
from retrace_core.tape import codec, format

# Imported for annotations only, never at run time: these modules load in every recorded
# and replayed process, before the program, and import nothing they can avoid.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

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


def standing_for(original: type, namespace: dict, instances: tuple = ()) -> type:
    """A subclass of the class ``original`` with ``namespace``, that shows itself as
    ``original``: its names and doc, and ``isinstance``/``issubclass`` answer for
    ``original`` (and ``instances``, other classes whose objects stand for its objects), so
    the objects C code makes of ``original`` itself are still instances of it."""
    real = (original, *instances)

    class StandingFor(type(original)):
        def __instancecheck__(cls, instance) -> bool:
            return isinstance(instance, real)

        def __subclasscheck__(cls, subclass) -> bool:
            # ``instances`` too: functools.singledispatch picks by issubclass (aiofiles
            # wraps what ``open(..., buffering=0)`` returns by its registration for FileIO)
            return issubclass(subclass, real)

    return StandingFor(original.__name__, (original,), {
        **namespace, "__module__": original.__module__, "__qualname__": original.__qualname__,
        "__doc__": original.__doc__})


class _NonBinding(staticmethod):
    """A ``staticmethod`` that shows itself as the built-in it stands for: a program that
    prints ``time.time``, pickles or copies it, asks ``inspect.isbuiltin`` or
    ``isinstance(f, types.BuiltinFunctionType)`` sees what it would see unrecorded."""

    __slots__ = ()

    @property
    def __class__(self):
        return type(self._original)

    @property
    def _original(self):
        return getattr(self.__func__, "__wrapped__", self.__func__)

    def __repr__(self) -> str:
        return repr(self._original)

    def __reduce__(self):
        # A module function pickles as its name, where pickle finds this wrapper under it
        # (time.time); else as the original (os.urandom is posix.urandom, unpatched): the
        # same bytes as unrecorded either way.
        if getattr(sys.modules.get(self.__module__), self.__qualname__, None) is self:
            return self.__qualname__
        return self._original.__reduce__()

    def __getattr__(self, name: str):  # __text_signature__, __self__...
        return getattr(self._original, name)


_NonBinding.__name__ = _NonBinding.__qualname__ = "builtin_function_or_method"
_NonBinding.__module__ = "builtins"


_BUILTIN_FUNCTION = type(len)


def module_function(wrapper: Callable, original) -> object:
    """The stand-in for a module's built-in function: a real built-in (csrc/builtins.c)
    with the original's name, signature, doc and ``__self__``, whose body is ``wrapper``:
    C extensions that read it as a C function (time-machine swaps its C pointer) and
    programs that look at it see a built-in. Anything else, or when the pool of C
    trampolines is used up: ``non_binding(wrapper)``."""
    if type(original) is _BUILTIN_FUNCTION:
        made = _builtin(wrapper, original, getattr(original, "__self__", None), classmethod=False)
        if made is not None:
            return made
    return non_binding(wrapper)


def class_method(wrapper: Callable, original) -> object:
    """The stand-in for a classmethod of a C type (``datetime.now``): a real
    classmethod descriptor whose calls go to ``wrapper(cls, ...)``; else a classmethod."""
    owner = getattr(original, "__objclass__", None)
    if type(original).__name__ == "classmethod_descriptor" and isinstance(owner, type):
        made = _builtin(wrapper, original, owner, classmethod=True)
        if made is not None:
            return made
    return classmethod(wrapper)


def _builtin(wrapper: Callable, original, owner, classmethod: bool) -> object | None:
    """A built-in like ``original`` (its name, doc, signature and C calling convention)
    whose calls go to ``wrapper``; None when csrc cannot make one."""
    from retrace_core import _engine

    made: list = []
    cast = _engine.ffi.cast
    module = original.__module__ if not classmethod else None
    if _engine.lib.rt_builtin_new(cast("void *", id(wrapper)), cast("void *", id(original)),
                                  cast("void *", id(owner) if owner is not None else 0),
                                  cast("void *", id(module) if module else 0),
                                  1 if classmethod else 0, cast("void *", id(made))) != 0:
        return None
    return made[0]


def non_binding(function: Callable) -> Callable:
    """Make a Python function behave like a built-in when stored on a class."""
    return _NonBinding(function)
