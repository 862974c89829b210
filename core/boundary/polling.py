"""Readiness waits: ``select.select``, and ``select.poll()`` / ``select.epoll()`` objects.

The tape holds fds, never the program's objects: an object's ``fileno()`` is asked
once, as select itself would ask it, and ``select.select`` records the ready fds; the
program gets back its own objects, picked by the rule select uses (every object, in
the order given, whose fd is ready), which replay applies to the recorded fds.

Poll objects are C types that cannot be patched or subclassed, so ``select.poll`` and
``select.epoll`` are replaced by factories of :class:`PollObject` / :class:`EpollObject`.
Recording, they hold the real object and each call is an event; replaying, they hold
nothing and each call is answered from the tape. ``selectors`` copied
``select.select/poll/epoll`` into class attributes when it was imported;
:class:`SelectorCopy` points those at the same replacements.
"""
from __future__ import annotations

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, call_arguments, copy_identity, non_binding

# Imported for annotations only, never at run time: these modules load in every recorded
# and replayed process, before the program, and import nothing they can avoid.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True

# Each original select function/type -> the replacement the patcher installed for it.
_replacements: dict = {}


def as_fd(obj) -> int:
    """The fd select waits on for ``obj``: the int itself, or what ``obj.fileno()`` returns."""
    if isinstance(obj, int):
        return obj
    fileno = getattr(obj, "fileno", None)
    if fileno is None:
        raise TypeError("argument must be an int, or have a fileno() method.")
    fd = fileno()
    if not isinstance(fd, int):
        raise TypeError("fileno() returned a non-integer")
    return fd


def _installed(original, replacement):
    _replacements[original] = replacement
    return replacement


# -- select.select ------------------------------------------------------------------

class Select:
    """``select.select``: event ``(read fds, write fds, except fds, timeout) -> ready fds``."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)
        return _installed(original, _select(original, lambda fds, timeout: (record(
            headers, tape, lambda: original(*fds, timeout), (*fds, timeout)), fds)))

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name

        def ready_fds(fds, timeout):
            raised, recorded, value = player.take(name, (*fds, timeout))
            return player.result(raised, value), _recorded_fds(recorded, fds)

        return _installed(original, _select(original, ready_fds))


def _recorded_fds(recorded, fds: tuple) -> tuple:
    """The fds the recorded call waited on, list for list, where they line up with the
    objects waited on now; else the fds those objects have now. Another thread may have
    closed a socket while the recorded call waited on it (its fd is -1 by the time the
    replay gets there): the recorded call still reported it ready by its old number."""
    if not isinstance(recorded, (list, tuple)) or len(recorded) < 3:
        return fds
    lists = tuple(recorded[:3])
    if all(isinstance(old, (list, tuple)) and len(old) == len(now) for old, now in zip(lists, fds)):
        return lists
    return fds


def _select(original, ready_fds: Callable[[tuple, object], tuple]):
    """``ready_fds(fds, timeout)`` gives (ready fds, the fds that stand for the objects)."""
    def select(rlist, wlist, xlist, timeout=None, /):
        if guard.busy:
            return original(rlist, wlist, xlist, timeout)
        waited = (list(rlist), list(wlist), list(xlist))
        fds = tuple([as_fd(obj) for obj in objects] for objects in waited)
        ready, named = ready_fds(fds, timeout)
        return tuple([obj for obj, fd in zip(objects, wanted) if fd in found]
                      for objects, wanted, found in zip(waited, named, map(set, ready)))

    return non_binding(copy_identity(select, original))


# -- poll and epoll objects -----------------------------------------------------------

class _Recording:
    """How poll objects make a call while recording: run it, write an event."""

    def __init__(self, tape, kind: str) -> None:
        self._tape = tape
        self._headers = {operation: Headers(tape, _event_name(kind, operation), True)
                         for operation in _OPERATIONS}

    def call(self, operation: str, function: Callable[[], object], shown: object, keep=None) -> object:
        return record(self._headers[operation], self._tape, function, shown, keep)


class _Replaying:
    """How poll objects make a call while replaying: the tape answers, nothing runs."""

    def __init__(self, player, kind: str) -> None:
        self._answer = player.answer
        self._names = {operation: _event_name(kind, operation) for operation in _OPERATIONS}

    def call(self, operation: str, function: Callable[[], object], shown: object, keep=None) -> object:
        if guard.busy:
            return function()
        return self._answer(self._names[operation], shown)


_OPERATIONS = ("create", "fromfd", "register", "modify", "unregister", "poll", "close")


def _event_name(kind: str, operation: str) -> str:
    return kind if operation == "create" else f"{kind}.{operation}"


class PollObject:
    """What ``select.poll()`` returns: each call is an event ``select.poll.NAME(arguments)``."""

    __slots__ = ("_real",)
    _channel: _Recording | _Replaying  # set when the table is applied

    def __init__(self, real) -> None:
        self._real = real  # None in replay

    def register(self, fd, *eventmask):
        fd = as_fd(fd)
        return self._channel.call("register", lambda: self._real.register(fd, *eventmask), (fd, *eventmask))

    def modify(self, fd, eventmask):
        fd = as_fd(fd)
        return self._channel.call("modify", lambda: self._real.modify(fd, eventmask), (fd, eventmask))

    def unregister(self, fd):
        fd = as_fd(fd)
        return self._channel.call("unregister", lambda: self._real.unregister(fd), (fd,))

    def poll(self, *timeout):
        return self._channel.call("poll", lambda: self._real.poll(*timeout), timeout)


class EpollObject:
    """Stands in for ``select.epoll``; its events start their arguments with the epoll fd."""

    __slots__ = ("_real", "_fd", "_closed", "__weakref__")
    _channel: _Recording | _Replaying  # set when the table is applied
    _original: type

    def __init__(self, sizehint=-1, flags=0) -> None:
        self._adopt(self._channel.call("create", lambda: self._original(sizehint, flags), (sizehint, flags),
                                       _epoll_fd))

    @classmethod
    def fromfd(cls, fd):
        self = cls.__new__(cls)
        self._adopt(cls._channel.call("fromfd", lambda: cls._original.fromfd(fd), (fd,), _epoll_fd))
        return self

    def _adopt(self, created) -> None:
        # Recording (or under the guard) ``created`` is a real epoll; replaying, its recorded fd.
        self._real, self._fd = (None, created) if isinstance(created, int) else (created, created.fileno())
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def fileno(self) -> int:
        self._check_open()
        return self._fd

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("I/O operation on closed epoll object")

    def register(self, fd, *args, **kwargs):
        fd = as_fd(fd)
        return self._channel.call("register", lambda: self._real.register(fd, *args, **kwargs),
                                  call_arguments((self._fd, fd, *args), kwargs))

    def modify(self, fd, *args, **kwargs):
        fd = as_fd(fd)
        return self._channel.call("modify", lambda: self._real.modify(fd, *args, **kwargs),
                                  call_arguments((self._fd, fd, *args), kwargs))

    def unregister(self, fd):
        fd = as_fd(fd)
        return self._channel.call("unregister", lambda: self._real.unregister(fd), (self._fd, fd))

    def poll(self, *args, **kwargs):
        return self._channel.call("poll", lambda: self._real.poll(*args, **kwargs),
                                  call_arguments((self._fd, *args), kwargs))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._channel.call("close", lambda: self._real.close(), (self._fd,))

    def __enter__(self):
        self._check_open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<select.epoll fd={self._fd}>"


def _epoll_fd(real) -> int:
    return real.fileno()


def _nothing(_result) -> None:
    return None


class Poll:
    """``select.poll``: event ``select.poll() -> None``, then one per call of the object."""

    @staticmethod
    def record(entry, original, tape):
        return Poll._install(entry, original, _Recording(tape, entry.qualified_name))

    @staticmethod
    def replay(entry, original, player):
        return Poll._install(entry, original, _Replaying(player, entry.qualified_name))

    @staticmethod
    def _install(entry, original, channel):
        PollObject._channel = channel

        def poll():
            # The real object is nothing a replay could return: the event keeps None, and
            # replay's object holds None.
            return PollObject(channel.call("create", original, (), _nothing))

        return _installed(original, non_binding(copy_identity(poll, original)))


class Epoll:
    """``select.epoll``: a class whose instances make their calls events (creation keeps the fd)."""

    @staticmethod
    def record(entry, original, tape):
        return Epoll._install(original, _Recording(tape, entry.qualified_name))

    @staticmethod
    def replay(entry, original, player):
        return Epoll._install(original, _Replaying(player, entry.qualified_name))

    @staticmethod
    def _install(original, channel):
        EpollObject._channel = channel
        EpollObject._original = original
        return _installed(original, EpollObject)


class SelectorCopy:
    """A ``selectors`` class attribute holding ``select.select``, ``poll`` or ``epoll``.

    If select was patched before selectors was imported, the attribute already holds
    the replacement; otherwise it gets the one installed in ``select``.
    """

    @staticmethod
    def record(entry, original, channel):
        return _replacements.get(original, original)

    replay = record
