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

A prototype class the program gets is a subclass of the one ctypes made (the same name,
``_flags_``, argument and result types), whose instances all go through :meth:`__call__`; so
``isinstance`` and ctypes' own type checks of callbacks made from it hold. Other foreign
functions are called as they are.
"""
from __future__ import annotations

from retrace_core.boundary import thread_idents
from retrace_core.boundary.recorded_call import record
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


def _shown(arguments: tuple) -> tuple:
    """The arguments as the tape keeps them: ctypes values as their Python values."""
    return tuple(getattr(argument, "value", argument) for argument in arguments)


def _recording_call(tape):
    headers: dict[str, Headers] = {}

    def call(real_call, function, name: str, arguments: tuple):
        header = headers.get(name)
        if header is None:
            header = headers[name] = Headers(tape, _PREFIX + name, True)
        return record(header, tape, lambda: real_call(function, *arguments), _shown(arguments))

    return call


def _replaying_call(player):
    def call(real_call, function, name: str, arguments: tuple):
        if name in TAKES_A_THREAD:
            return real_call(function, thread_idents.real_thread(arguments[0]), *arguments[1:])
        return player.answer(_PREFIX + name, _shown(arguments))

    return call


def _taped_class(real: type, call, names: frozenset) -> type:
    """A subclass of the prototype class ``real`` whose functions named in ``names`` ``call``
    answers."""
    real_call = real.__call__

    def __new__(cls, *args, **kwargs):
        function = real.__new__(cls, *args, **kwargs)
        target = args[0] if args else None
        name = target[0] if isinstance(target, tuple) and target and isinstance(target[0], str) else None
        function.taped_name = name if name in names else None
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


def _prototypes(original, call, names: frozenset):
    taped: dict[type, type] = {}

    def CFUNCTYPE(restype, *argtypes, **kwargs):  # noqa: N802 (ctypes' name)
        real = original(restype, *argtypes, **kwargs)
        made = taped.get(real)
        if made is None:
            made = taped[real] = _taped_class(real, call, names)
        return made

    return copy_identity(CFUNCTYPE, original)


def _lookup(original, call, names: frozenset):
    def __getitem__(self, name_or_ordinal):  # noqa: N807 (the method it stands for)
        if name_or_ordinal not in names:
            return original(self, name_or_ordinal)
        function = _taped_class(self._FuncPtr, call, names)((name_or_ordinal, self))
        if not isinstance(name_or_ordinal, int):
            function.__name__ = name_or_ordinal
        return function

    return copy_identity(__getitem__, original)


def _special(make):
    """A table special whose wrapper ``make(original, call, names)`` builds, recording or
    replaying."""

    class Special:
        @staticmethod
        def record(entry, original, tape):
            return make(original, _recording_call(tape), TAPED)

        @staticmethod
        def replay(entry, original, player):
            names = TAPED | TAKES_A_THREAD if thread_idents.kept(player) else TAPED
            return make(original, _replaying_call(player), names)

    return Special


Prototype = _special(_prototypes)  # ctypes.CFUNCTYPE: prototypes whose taped functions are events
LibraryLookup = _special(_lookup)  # ctypes.CDLL.__getitem__ (libc.inotify_init, through __getattr__)
