"""Thread idents: in a replay, each thread has the numbers it had when recorded.

``threading.get_ident()`` is the address of the thread's pthread structure and
``get_native_id()`` the kernel's thread id: both differ from run to run, and nothing on
the tape said what they were. A program that keeps one and compares it later read another
number in the replay: diskcache's ``RLock`` recipe stores ``f"{pid}-{get_ident()}"`` in its
SQLite cache (the pid is recorded, so the cache's answer is the recording's) and compares
it with ``get_ident()`` on release: "cannot release un-acquired lock", and the replay
diverged. ``logging``'s ``%(thread)d`` is such a number too.

Recording, nothing is wrapped: the main thread's numbers are in the process header
(:func:`header_entry`) and each thread the program starts makes one event, its first
(:data:`IDENTS`, threads.py), with its own.

Replaying, ``get_ident``, ``get_native_id``, ``_get_main_thread_ident`` (3.13) and the
dictionaries keyed by idents (``sys._current_frames``, ``sys._current_exceptions``) answer
with the recorded numbers, and threading's own records of the threads that exist when the
replay starts (the main thread's ``ident`` and ``native_id``, ``threading._active``) are
renumbered. A thread the tape does not know (one a C extension started) keeps its own.
Our code keeps the real numbers (:data:`real_get_ident`): the player's thread map, the
tracer and the engine are keyed by them.

C functions that take a thread get the real one back: ``signal.pthread_kill`` here, and
those called through ctypes (``pthread_setname_np``, ``PyThreadState_SetAsyncExc``:
foreign_calls.py); a recorded ident is a pointer into the recording's address space, and
trio's ``pthread_setname_np(thread.ident, ...)`` given one crashed the replay.

Not mapped: the ident ``_thread.start_new_thread`` returns (the new thread may not have
taken its first event yet; ``threading`` does not use it) and the numbers C code prints
(``faulthandler``, a ``_thread.RLock``'s repr): addresses, which the output comparison
passes over (fingerprints.py).
"""
from __future__ import annotations

import _thread
import sys

# pytest leaves frames of modules with this global out of its tracebacks.
__tracebackhide__ = True

IDENTS = "thread.idents"
HEADER_KEY = "thread_idents"  # the main thread's [ident, native id]; absent in older recordings

# The real functions, kept before any patch: what our own code calls (the reference
# tracer too, so this module imports nothing of ours at its top).
real_get_ident = getattr(_thread.get_ident, "__wrapped__", _thread.get_ident)
_real_native = getattr(_thread, "get_native_id", None)
real_get_native_id = getattr(_real_native, "__wrapped__", _real_native)
real_current_frames = getattr(sys._current_frames, "__wrapped__", sys._current_frames)

# Replaying: the real number -> the recorded one, and back.
_recorded_ident: dict[int, int] = {}
_real_ident: dict[int, int] = {}
# The real ident -> the recorded native id: keyed by the ident, which a snapshot's fork
# keeps, where the kernel gives the forked thread another native id.
_recorded_native: dict[int, int] = {}


def own_idents() -> list:
    """This thread's [ident, native id], as an event or the header keeps them."""
    return [real_get_ident(), real_get_native_id() if real_get_native_id is not None else None]


def header_entry() -> dict:
    return {HEADER_KEY: own_idents()}


def kept(player) -> bool:
    """Whether the recording kept the threads' numbers (made before, it did not)."""
    return player.header.get(HEADER_KEY) is not None


def _mapping(player) -> bool:
    """Whether this replay maps the numbers; the first patch to ask adopts the main
    thread's (the patches are installed in it, before the program runs)."""
    if not kept(player):
        return False
    if not _recorded_ident:
        adopt(player.header[HEADER_KEY])
        _renumber_threading()
    return True


def adopt(recorded) -> None:
    """This thread is the one that had ``recorded`` ([ident, native id]) when recorded."""
    ident, native = recorded
    real = real_get_ident()
    _recorded_ident[real] = ident
    _real_ident[ident] = real
    if native is not None:
        _recorded_native[real] = native


def real(ident):
    """The real ident of the thread that the program knows as ``ident``."""
    return _real_ident.get(ident, ident)


def real_thread(argument):
    """``argument``, a thread handed to a C function (an int, or a ctypes value of one), as
    the real thread: the program knows its threads by their recorded idents."""
    value = getattr(argument, "value", argument)
    if type(value) is not int or value not in _real_ident:
        return argument
    return _real_ident[value] if value is argument else type(argument)(_real_ident[value])


def _renumber_threading() -> None:
    """threading made its records of the threads there are (the main thread) before the
    replay began: they get the recorded numbers, as threading would have given them."""
    threading = sys.modules.get("threading")
    if threading is None:
        return
    with threading._active_limbo_lock:
        for ident, thread in list(threading._active.items()):
            recorded = _recorded_ident.get(ident)
            if recorded is not None:
                del threading._active[ident]
                thread._ident = recorded
                threading._active[recorded] = thread
                native = getattr(thread, "_native_id", None)
                if native is not None:
                    thread._native_id = _recorded_native.get(ident, native)


def _replayed_as(make, builtin: bool = True):
    """A table special that changes nothing when recording and, in a replay that maps the
    numbers, stands in for ``original`` (a built-in, unless ``builtin`` is False) with
    ``make(entry, original)``."""

    class Special:
        @staticmethod
        def record(entry, original, tape):
            return original

        @staticmethod
        def replay(entry, original, player):
            if not _mapping(player):
                return original
            from retrace_core.boundary.wrappers import copy_identity, module_function

            stand_in = copy_identity(make(entry, original), original)
            return module_function(stand_in, original) if builtin else stand_in

    return Special


def _get_ident(entry, original):
    if entry.name == "_get_main_thread_ident":
        main = original()
        return lambda: _recorded_ident.get(main, main)

    def get_ident():
        ident = original()
        return _recorded_ident.get(ident, ident)

    return get_ident


def _get_native_id(entry, original):
    def get_native_id():
        recorded = _recorded_native.get(real_get_ident())
        return original() if recorded is None else recorded

    return get_native_id


def _by_recorded_ident(entry, original):
    return lambda: {_recorded_ident.get(ident, ident): value for ident, value in original().items()}


def _to_the_real_thread(entry, original):
    return lambda thread, *arguments: original(real_thread(thread), *arguments)


# ``_thread.get_ident`` (and ``threading.get_ident``, ``_get_main_thread_ident``)
GetIdent = _replayed_as(_get_ident)
GetNativeId = _replayed_as(_get_native_id)  # ``_thread.get_native_id``: the kernel's thread id
# ``sys._current_frames`` and ``sys._current_exceptions``: dictionaries keyed by idents
ByIdent = _replayed_as(_by_recorded_ident)
ThreadFirst = _replayed_as(_to_the_real_thread)  # ``signal.pthread_kill``: its first argument is a thread


def _after_fork(entry, original):
    def _after_fork(self, new_ident=None):
        if new_ident is None:
            return original(self)
        original(self, new_ident=real(new_ident))
        self._ident = new_ident

    return _after_fork


# ``threading.Thread._after_fork`` (3.13): in a forked child it asserts that the thread's C
# handle has the ident ``get_ident()`` gives, which is the real one. A method, not a built-in.
AfterFork = _replayed_as(_after_fork, builtin=False)
