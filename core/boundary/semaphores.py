"""multiprocessing's semaphores (``_multiprocessing.SemLock``): shared with other processes.

The locks, semaphores, conditions and events of ``multiprocessing`` (and so its
``Queue``) are POSIX semaphores that the program's child processes acquire and release
too, so what an ``acquire`` returns, and whether a ``release`` raises, depends on them:
each is an event. So are making one (its result is the semaphore's ``handle``, an
address that goes into the pickles sent to spawned children) and reading its value.

Recording, the program's semaphores are instances of a subclass of the real type that
records these calls. Replaying, no semaphore is made: :class:`ReplayedSemLock` answers
from the tape and keeps what the real type keeps for this process alone (how often
this process holds it, and which thread took it last).
"""
from __future__ import annotations

import _thread

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers

__tracebackhide__ = True

NEW, REBUILD, ACQUIRE, RELEASE, GET_VALUE, IS_ZERO = (
    "_multiprocessing.SemLock", "_multiprocessing.SemLock._rebuild", "_multiprocessing.SemLock.acquire",
    "_multiprocessing.SemLock.release", "_multiprocessing.SemLock._get_value",
    "_multiprocessing.SemLock._is_zero")


class SemLockClass:
    """``_multiprocessing.SemLock``: the type, replaced by one whose calls are events."""

    @staticmethod
    def record(entry, original, tape):
        new, rebuild, acquire, release, get_value, is_zero = (
            Headers(tape, name, True) for name in (NEW, REBUILD, ACQUIRE, RELEASE, GET_VALUE, IS_ZERO))
        real = original

        class SemLock(real):
            __slots__ = ()

            def __new__(cls, kind, value, maxvalue, name, unlink):
                if guard.busy:
                    return real.__new__(cls, kind, value, maxvalue, name, unlink)
                made = []
                record(new, tape, lambda: made.append(real.__new__(cls, kind, value, maxvalue, name, unlink)),
                       (kind, value, maxvalue, name, unlink), lambda _: made[0].handle)
                return made[0]

            @classmethod
            def _rebuild(cls, handle, kind, maxvalue, name):
                real_rebuild = real.__dict__["_rebuild"].__get__(None, cls)
                if guard.busy:
                    return real_rebuild(handle, kind, maxvalue, name)
                return record(rebuild, tape, lambda: real_rebuild(handle, kind, maxvalue, name),
                              (kind, maxvalue, name), lambda made: made.handle)

            def acquire(self, block=True, timeout=None):
                if guard.busy:
                    return real.acquire(self, block, timeout)
                return record(acquire, tape, lambda: real.acquire(self, block, timeout), (block, timeout))

            def release(self):
                if guard.busy:
                    return real.release(self)
                return record(release, tape, lambda: real.release(self), ())

            def __enter__(self):
                return self.acquire()

            def __exit__(self, *exc):
                return self.release()

            def _get_value(self):
                return record(get_value, tape, lambda: real._get_value(self), ()) if not guard.busy \
                    else real._get_value(self)

            def _is_zero(self):
                return record(is_zero, tape, lambda: real._is_zero(self), ()) if not guard.busy \
                    else real._is_zero(self)

        _named_like(SemLock, real)
        return SemLock

    @staticmethod
    def replay(entry, original, player):
        answer = player.answer
        get_ident = _thread.get_ident

        class SemLock:
            SEM_VALUE_MAX = original.SEM_VALUE_MAX

            def __init__(self, kind, value, maxvalue, name, unlink, handle=None):
                if handle is None:
                    handle = answer(NEW, (kind, value, maxvalue, name, unlink))
                self.handle, self.kind, self.maxvalue = handle, kind, maxvalue
                self.name = None if unlink else name
                self._holds = 0  # acquires not yet released by this process
                self._last_thread = None

            @classmethod
            def _rebuild(cls, handle, kind, maxvalue, name):
                return cls(kind, None, maxvalue, name, False, answer(REBUILD, (kind, maxvalue, name)))

            def acquire(self, block=True, timeout=None):
                taken = True if guard.busy else answer(ACQUIRE, (block, timeout))
                if taken:
                    self._holds += 1
                    self._last_thread = get_ident()
                return taken

            def release(self):
                if not guard.busy:
                    answer(RELEASE, ())  # raises what the real one raised
                self._holds -= 1

            def __enter__(self):
                return self.acquire()

            def __exit__(self, *exc):
                return self.release()

            def _count(self):
                return self._holds

            def _is_mine(self):
                return self._holds > 0 and self._last_thread == get_ident()

            def _after_fork(self):
                self._holds = 0

            def _get_value(self):
                return answer(GET_VALUE, ())

            def _is_zero(self):
                return answer(IS_ZERO, ())

        _named_like(SemLock, original)
        return SemLock


def _named_like(replacement: type, original: type) -> None:
    replacement.__name__ = original.__name__
    replacement.__qualname__ = original.__qualname__
    replacement.__module__ = original.__module__
