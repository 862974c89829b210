"""C functions called through ctypes whose results name kernel objects: inotify.

watchdog (and werkzeug's reloader, which runs it) makes its inotify descriptor and its
watches through ctypes, ``CFUNCTYPE(c_int, use_errno=True)(("inotify_init", libc))``, and no
event recorded them: a replay made a real inotify descriptor, with another number than the
one the recorded ``poll`` results name, and the observer thread skipped its read ("the tape
expected os.read(12, 81920), the program asked for threading.Lock.acquire()"). Calls of the
functions in :data:`TAPED` are boundary calls now, events named ``ctypes.inotify_init``...:
recorded, the result goes on the tape; replayed, the tape answers and nothing is made (the
descriptor's polls, reads and close are boundary calls already). Such a function is found
two ways, both covered: a prototype of ``ctypes.CFUNCTYPE`` called with ``(name, library)``,
and ``library.name`` (``CDLL.__getitem__``).

In a replay, the functions in :data:`TAKES_A_THREAD` are wrapped too: their first argument is a
thread, and the program knows its threads by their recorded idents (thread_idents.py); the
call goes to the real thread (trio names its worker threads with ``pthread_setname_np(ident,
...)``, which given a pointer into the recording's address space crashed the replay).

Every other foreign call, once the program has threads, is a *mark*: an event
``ctypes.ran.NAME`` with no value, written where the call returned; the call itself runs in
both modes. A foreign call lets the interpreter go (ctypes releases the GIL around it), so
other threads run while it is in C, a switch the tape did not see: trio renames a worker
thread through ctypes after its job and before it puts itself back on the list of idle
workers, and the workers that ended a job together went back onto the list in another
order when replayed, and took the next jobs otherwise ("the recording acquired a lock here
that another thread holds in replay"). Replayed, a thread waits for its mark's turn before
the call, as after any other call it waits at the next. (``pythonapi``'s functions keep the
interpreter: no mark.) Recordings made before replay without marks (:data:`HEADER_KEY`).

A prototype class the program gets is a subclass of the one ctypes made (the same name,
``_flags_``, argument and result types), whose instances all go through :meth:`__call__`; so
``isinstance`` and ctypes' own type checks of callbacks made from it hold. Functions got by
ordinal and callbacks are called as they are.
"""
from __future__ import annotations

from retrace_core.boundary import thread_idents
from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.threads import _Threads
from retrace_core.boundary.wrappers import Headers, copy_identity

TAPED = frozenset({"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch"})
# Their first argument is a thread: a pthread_t, or CPython's thread id, the same number.
TAKES_A_THREAD = frozenset({
    "pthread_setname_np", "pthread_getname_np", "pthread_kill", "pthread_sigqueue", "pthread_cancel",
    "pthread_detach", "pthread_join", "pthread_tryjoin_np", "pthread_timedjoin_np", "pthread_getattr_np",
    "pthread_getcpuclockid", "pthread_getschedparam", "pthread_setschedparam", "pthread_setschedprio",
    "pthread_getaffinity_np", "pthread_setaffinity_np", "PyThreadState_SetAsyncExc",
})
_PREFIX = "ctypes."
_RAN = "ctypes.ran."  # a mark: the call returned (the thread had the interpreter again)
_HOLDS_THE_GIL = 0x4  # ctypes' _FUNCFLAG_PYTHONAPI: pythonapi's functions keep the interpreter
HEADER_KEY = "foreign_call_marks"  # recordings from 2026-12-07 on


def _shown(arguments: tuple) -> tuple:
    """The arguments as the tape keeps them: ctypes values as their Python values."""
    return tuple(getattr(argument, "value", argument) for argument in arguments)


def _recording_call(tape):
    headers: dict[str, Headers] = {}
    marks: dict[str, bytes] = {}

    def call(real_call, function, name: str, arguments: tuple):
        if name in TAPED:
            header = headers.get(name)
            if header is None:
                header = headers[name] = Headers(tape, _PREFIX + name, True)
            return record(header, tape, lambda: real_call(function, *arguments), _shown(arguments))
        if not _Threads.started or guard.busy or function._flags_ & _HOLDS_THE_GIL:
            return real_call(function, *arguments)
        mark = marks.get(name)
        if mark is None:
            mark = marks[name] = Headers(tape, _RAN + name, False).returned
        try:
            return real_call(function, *arguments)
        finally:
            tape.returned(mark, None)  # where it got the interpreter back

    return call


def _replaying_call(player):
    marked = bool(player.header.get(HEADER_KEY))

    def call(real_call, function, name: str, arguments: tuple):
        if name in TAPED:
            return player.answer(_PREFIX + name, _shown(arguments))
        if marked and _Threads.started and not guard.busy and not function._flags_ & _HOLDS_THE_GIL:
            player.answer(_RAN + name, None)  # its turn: other threads ran while it was in C
        if name in TAKES_A_THREAD:
            return real_call(function, thread_idents.real_thread(arguments[0]), *arguments[1:])
        return real_call(function, *arguments)

    return call


def _taped_class(real: type, call) -> type:
    """A subclass of the prototype class ``real`` whose named functions' calls go to
    ``call``."""
    real_call = real.__call__

    def __new__(cls, *args, **kwargs):
        function = real.__new__(cls, *args, **kwargs)
        target = args[0] if args else None
        name = target[0] if isinstance(target, tuple) and target and isinstance(target[0], str) else None
        function.taped_name = name
        return function

    def __call__(self, *arguments):
        name = self.taped_name
        if name is None:
            return real_call(self, *arguments)
        return call(real_call, self, name, arguments)

    namespace = {"__new__": __new__, "__call__": __call__, "__module__": real.__module__,
                 "__qualname__": real.__qualname__}
    for attribute in ("_flags_", "_argtypes_", "_restype_"):  # what ctypes reads of the class itself
        if getattr(real, attribute, None) is not None:
            namespace[attribute] = getattr(real, attribute)
    return type(real)(real.__name__, (real,), namespace)


def _prototypes(original, call):
    taped: dict[type, type] = {}

    def CFUNCTYPE(restype, *argtypes, **kwargs):  # noqa: N802 (ctypes' name)
        real = original(restype, *argtypes, **kwargs)
        made = taped.get(real)
        if made is None:
            made = taped[real] = _taped_class(real, call)
        return made

    return copy_identity(CFUNCTYPE, original)


def _lookup(original, call):
    taped: dict[type, type] = {}  # a library's function class -> ours

    def __getitem__(self, name_or_ordinal):  # noqa: N807 (the method it stands for)
        if not isinstance(name_or_ordinal, str):
            return original(self, name_or_ordinal)
        made = taped.get(self._FuncPtr)
        if made is None:
            made = taped[self._FuncPtr] = _taped_class(self._FuncPtr, call)
        function = made((name_or_ordinal, self))
        function.__name__ = name_or_ordinal
        return function

    return copy_identity(__getitem__, original)


def _special(make):
    """A table special whose wrapper ``make(original, call)`` builds, recording or
    replaying."""

    class Special:
        @staticmethod
        def record(entry, original, tape):
            return make(original, _recording_call(tape))

        @staticmethod
        def replay(entry, original, player):
            return make(original, _replaying_call(player))

    return Special


Prototype = _special(_prototypes)  # ctypes.CFUNCTYPE: prototypes whose named functions come to us
LibraryLookup = _special(_lookup)  # ctypes.CDLL.__getitem__ (libc.inotify_init, through __getattr__)
