"""Threads: which thread may run, and in which order their hand-offs happened.

Recording, three kinds of thread events go on the tape, in the thread that makes them:

- starting a thread (``_thread.start_new_thread``, under ``threading.Thread.start``) is an
  event of the parent whose result is the new thread's *logical id*: 1, 2, 3... in
  creation order, the same in every replay. The new thread's last act is a thread-end
  event;
- once a second thread has been started, every acquire (with its result) and release of
  a lock the program made (``threading.Lock``/``RLock`` and so everything built on
  them: ``Condition``, ``Event``, ``Semaphore``, ``Barrier``, ``queue.Queue``) is an
  event. An acquire is written while the lock is held and a release before it is let
  go, so the tape's order of the events of one lock is the order they happened in;
- ``Thread.join`` and ``Thread.is_alive``, with whether the thread was still alive.

``queue.SimpleQueue`` (a C type, with a lock of its own) becomes the standard library's
pure-Python version, built on those locks; ``concurrent.futures`` hands work to its
threads through it.

Replaying, the player runs one thread at a time (see replay/turns.py): the thread whose event
is next on the tape. So a program whose threads meet only through these replays
exactly, line for line, and a data race between them shows as a divergence.

Until a thread is started no lock event is recorded, but the program's locks are
already wrapped (a lock made before the first thread is used after it): a `with lock:`
costs ~0.24 µs more than the C lock's ~0.19 µs (docs/performance.md#threads).
"""
from __future__ import annotations

import _thread
from _functools import partial

from retrace_core.bootstrap.stable_hashes import thread_begins as hashes_begin
from retrace_core.boundary import thread_idents
from retrace_core.boundary.guard import bypass, guard
from retrace_core.boundary.wrappers import Headers, copy_identity, non_binding

# pytest leaves frames of modules with this global out of its tracebacks.
__tracebackhide__ = True

_get_ident = _thread.get_ident

START = "_thread.start_new_thread"
END = "thread.end"
ACQUIRE = "threading.Lock.acquire"
RELEASE = "threading.Lock.release"
JOIN = "threading.Thread.join"
IS_ALIVE = "threading.Thread.is_alive"


class _Threads:
    """Whether the program has started a thread: from then on, lock hand-offs are events.
    It flips at a recorded event, so a replay flips it at the same point."""

    started = False
    inspecting = False  # in a throw-away fork of a stopped replay: see detach_for_inspection


def detach_for_inspection(player) -> None:
    """In a throw-away fork that evaluates reprs and expressions: only this thread is
    left, so there are no turns to wait for. Thread calls answer from the real state
    (which mirrors the recording's at this point), and a wait for a lock or thread that
    only a vanished thread could end fails at once instead of hanging."""
    _Threads.started, _Threads.inspecting = False, True
    player.multithreaded, player.inspecting = False, True
    guard.busy = False  # at the end of a replay that diverged it was set (launch.main): answers come from the tape


def _would_wait_forever(what: str):
    return RuntimeError(f"{what} only another thread can end: not while inspecting a stopped replay")


class _Lock:
    """What both kinds of wrapped lock share: the real lock, and what needs no event."""

    __slots__ = ("_real", "__weakref__")

    def __init__(self, real) -> None:
        self._real = real

    def _at_fork_reinit(self) -> None:
        self._real._at_fork_reinit()

    def __exit__(self, exc_type, exc, traceback, /) -> None:  # no tuple of arguments: see acquire
        self.release()

    def __getattr__(self, name: str):
        return getattr(self._real, name)

    def __repr__(self) -> str:
        return repr(self._real)

    # What the program asks of a lock's identity answers for the real one: trio checks
    # ``lock.__class__.__module__ == "_thread"``, and ``isinstance(lock, _thread.LockType)``
    # reads ``__class__`` when ``type()`` does not match.
    @property
    def __class__(self):
        return type(self._real)

    def __reduce_ex__(self, protocol):
        return self._real.__reduce_ex__(protocol)  # "cannot pickle '_thread.lock' object", as unrecorded


def _named_like(lock_class: type, real_type: type) -> type:
    """``type(lock)`` reads ``<class '_thread.lock'>`` too."""
    lock_class.__module__ = real_type.__module__
    lock_class.__name__ = lock_class.__qualname__ = real_type.__name__
    return lock_class


class _LockType(type):
    """The metaclass of a stand-in for a lock *type* (``threading.Lock`` is the type
    ``_thread.lock`` from Python 3.13 on): calling it makes a wrapped lock, and
    ``isinstance``/``issubclass`` answer for the real type."""

    def __call__(cls, *args, **kwargs):
        return cls._new_lock(*args, **kwargs)

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, cls._real_type)

    def __subclasscheck__(cls, subclass) -> bool:
        return issubclass(subclass, cls._real_type)

    def __repr__(cls) -> str:
        return repr(cls._real_type)


# -- recording ---------------------------------------------------------------------------


def _recorded_lock_class(tape, rlock: bool):
    acquired = Headers(tape, ACQUIRE, False).returned
    released = Headers(tape, RELEASE, False).returned

    class RecordedLock(_Lock):
        __slots__ = ()

        def acquire(self, blocking=True, timeout=-1):
            # The real acquire takes its arguments as a tuple, which lives as long as the
            # call blocks: passed none when the program passed none, so that a program
            # counting its live objects (gc.get_objects) sees none of ours.
            if timeout == -1:
                result = self._real.acquire() if blocking is True else self._real.acquire(blocking)
            else:
                result = self._real.acquire(blocking, timeout)
            if _Threads.started and not guard.busy:
                tape.handed_off(acquired, result)  # still held: no other thread's acquire is before it
            return result

        __enter__ = acquire

        def release(self):
            if _Threads.started and not guard.busy:
                tape.handed_off(released, None)  # still held: no other thread's acquire is before it
            self._real.release()

    if not rlock:
        return RecordedLock

    class RecordedRLock(RecordedLock):
        """What ``Condition`` asks of an RLock besides acquire and release."""

        __slots__ = ()

        def _is_owned(self):
            return self._real._is_owned()

        def _release_save(self):
            if _Threads.started and not guard.busy:
                tape.handed_off(released, None)
            return self._real._release_save()

        def _acquire_restore(self, state):
            self._real._acquire_restore(state)
            if _Threads.started and not guard.busy:
                tape.handed_off(acquired, True)

    return RecordedRLock


def _wrapping(original, lock_class):
    """A lock factory whose locks are ``lock_class`` around the real ones, except ours
    and those of at-fork handlers we ran (made while ``guard.busy``): never events.
    Where ``original`` is itself a type (``threading.Lock`` on 3.13), the factory is a
    stand-in type, so that ``isinstance(x, threading.Lock)`` keeps working."""
    with bypass():
        real_type = type(original())
    _named_like(lock_class, real_type)

    def new_lock(*args, **kwargs):
        if guard.busy:
            return original(*args, **kwargs)
        return lock_class(original(*args, **kwargs))

    if isinstance(original, type):
        return _LockType(real_type.__name__, (), {
            "__module__": real_type.__module__, "__qualname__": real_type.__qualname__,
            "__doc__": original.__doc__, "_new_lock": staticmethod(new_lock), "_real_type": real_type})
    return copy_identity(new_lock, original)


class NewLock:
    """``_thread.allocate_lock`` (``threading.Lock``): a lock whose hand-offs are events."""

    @staticmethod
    def record(entry, original, tape):
        return _non_binding_factory(_wrapping(original, _recorded_lock_class(tape, rlock=False)))

    @staticmethod
    def replay(entry, original, player):
        return _non_binding_factory(_wrapping(original, _replayed_lock_class(player, rlock=False)))


def _non_binding_factory(factory):
    """A function factory must not bind when stored on a class; a type does not anyway,
    and must stay a type (``isinstance(x, threading.Lock)``)."""
    return factory if isinstance(factory, type) else non_binding(factory)


class NewRLock:
    """``threading.RLock``: a reentrant lock whose hand-offs are events."""

    @staticmethod
    def record(entry, original, tape):
        return _wrapping(original, _recorded_lock_class(tape, rlock=True))

    @staticmethod
    def replay(entry, original, player):
        return _wrapping(original, _replayed_lock_class(player, rlock=True))


class StartThread:
    """``_thread.start_new_thread`` and ``start_joinable_thread``: the new thread's logical
    id is the parent's event."""

    @staticmethod
    def record(entry, original, tape):
        started = Headers(tape, START, False).returned
        ended = Headers(tape, END, False).returned
        idents = Headers(tape, thread_idents.IDENTS, False).returned
        own_idents = thread_idents.own_idents

        def run_as(logical, function, args, kwargs):
            tape.adopt_thread(logical)
            tape.returned(idents, own_idents())  # its first event: a replay gives it these numbers
            hashes_begin(logical)
            try:
                return function(*args, **kwargs)
            finally:
                tape.returned(ended, None)

        def start(function, args, kwargs, start_real):
            _Threads.started = True
            logical = tape.new_thread()
            # Before the thread exists: none of its events can come before this one.
            tape.returned(started, logical)
            return start_real(run_as, (logical, function, tuple(args), kwargs or {}))

        return _thread_starter(original, start)

    @staticmethod
    def replay(entry, original, player):
        keeps_idents, adopt_idents = thread_idents.kept(player), thread_idents.adopt

        def run_as(logical, function, args, kwargs):
            player.adopt_thread(logical)
            if keeps_idents:
                adopt_idents(player.answer(thread_idents.IDENTS, None))
            hashes_begin(logical)
            try:
                return function(*args, **kwargs)
            finally:
                player.thread_ended(END)

        def start(function, args, kwargs, start_real):
            _Threads.started = True
            player.multithreaded = True
            _raised, _arguments, logical = player.take(START)
            # This thread holds the turn: nothing else counts now. Thread.start passes its
            # bound _bootstrap: its __self__ is the Thread (named), else there is none.
            player.live[logical] = getattr(function, "__self__", None)
            try:
                return start_real(run_as, (logical, function, tuple(args), kwargs or {}))
            finally:
                player.pass_turn()

        return _thread_starter(original, start)


def _thread_starter(original, start):
    """The wrapper of ``original``, which starts a thread: ``_thread.start_new_thread``, or
    ``_thread.start_joinable_thread`` (``Thread.start`` calls it from Python 3.13 on).
    ``start(function, args, kwargs, start_real)`` makes the event and has
    ``start_real(run, arguments)`` start the real thread running ``run(*arguments)``."""
    if original.__name__ == "start_joinable_thread":
        def start_joinable_thread(function, handle=None, daemon=True):
            if guard.busy:
                return original(function, handle=handle, daemon=daemon)
            # partial, not a lambda: no frame of ours under the thread's run_as, which
            # would read as a boundary call in progress (collector.standing_threads).
            return start(function, (), None, lambda run, arguments: original(
                partial(run, *arguments), handle=handle, daemon=daemon))

        return non_binding(copy_identity(start_joinable_thread, original))

    def start_new_thread(function, args, kwargs=None):
        if guard.busy:
            return original(function, args, *(() if kwargs is None else (kwargs,)))
        return start(function, args, kwargs, original)

    return non_binding(copy_identity(start_new_thread, original))


# -- replaying ---------------------------------------------------------------------------


def _replayed_lock_class(player, rlock: bool):
    take = player.take
    pass_turn = player.after_handoff  # the turn passes, unless the thread ran on when recorded

    class ReplayedLock(_Lock):
        __slots__ = ()

        def acquire(self, blocking=True, timeout=-1):
            if _Threads.inspecting:
                if self._real.acquire(False):
                    return True
                if not blocking:
                    return False
                raise _would_wait_forever("a lock held by a thread")
            if not _Threads.started or guard.busy:
                return self._real.acquire(blocking, timeout)
            _raised, _arguments, result = take(ACQUIRE)
            try:
                # One thread runs at a time, in the recorded order: a lock the recording got
                # is free now, unless the threads raced where the recording cannot see.
                if result and not self._real.acquire(False):
                    player.diverge_held_lock()
            finally:
                pass_turn()
            return result

        __enter__ = acquire

        def release(self):
            if not _Threads.started or guard.busy:
                return self._real.release()
            take(RELEASE)
            try:
                self._real.release()
            finally:
                pass_turn()

    if not rlock:
        return ReplayedLock

    class ReplayedRLock(ReplayedLock):
        __slots__ = ()

        def _is_owned(self):
            return self._real._is_owned()

        def _release_save(self):
            if not _Threads.started or guard.busy:
                return self._real._release_save()
            take(RELEASE)
            try:
                return self._real._release_save()
            finally:
                pass_turn()

        def _acquire_restore(self, state):
            if not _Threads.started or guard.busy:
                return self._real._acquire_restore(state)
            take(ACQUIRE)
            try:
                if not self._real.acquire(False):
                    player.diverge_held_lock()
                self._real.release()
                self._real._acquire_restore(state)  # free, and only this thread runs
            finally:
                pass_turn()

    return ReplayedRLock
