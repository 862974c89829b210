"""What one thread learns of another without a lock of the program's: whether it has
ended (``Thread.join``, ``Thread.is_alive``) and attributes threads share unlocked
(``socketserver``'s shutdown flag, ``Event._flag``). When a thread ends, or which thread
saw a write first, is timing: once threads exist each is an event, and the replay
answers what was recorded. ``queue.SimpleQueue`` becomes its pure-Python version, so
its hand-offs are lock events (threads.py).

Split from threads.py, which starts threads and records their locks; both share its
``_Threads`` state (whether a second thread has started).
"""
from __future__ import annotations

import sys

from retrace_core.boundary import thread_idents
from retrace_core.boundary.guard import bypass, guard
from retrace_core.boundary.threads import IS_ALIVE, JOIN, _Threads, _would_wait_forever
from retrace_core.boundary.wrappers import Headers, copy_identity

# pytest leaves frames of modules with this global out of its tracebacks.
__tracebackhide__ = True

# Seconds a replayed join waits for a thread past its last event to end (it takes
# microseconds; the bound only keeps a replay that went wrong from hanging).
ENDING_THREAD_WAIT = 5.0


class Join:
    """``Thread.join``: an event once it returns, with whether the thread still runs."""

    @staticmethod
    def record(entry, original, tape):
        header = Headers(tape, JOIN, False).returned

        def join(self, timeout=None):
            if not _Threads.started or guard.busy:
                return original(self, timeout)
            with bypass():  # one event: its inside (Event._flag reads) is not replayed
                original(self, timeout)
                alive = original_is_alive(self)
            tape.returned(header, alive)

        return copy_identity(join, original)

    @staticmethod
    def replay(entry, original, player):
        def join(self, timeout=None):
            if _Threads.inspecting and original_is_alive(self):
                raise _would_wait_forever("the end of a thread")
            if not _Threads.started or guard.busy:
                return original(self, timeout)
            # No real wait: the joined thread's remaining events come before whatever
            # follows on the tape, so the turns make it finish first. (Which thread a
            # program joins first can differ from the recording: ThreadPoolExecutor
            # walks a set of threads, ordered by address.)
            with bypass():
                if not self._started.is_set():  # as the recording raised, before any event
                    raise RuntimeError("cannot join thread before it is started")
            if not player.answer(JOIN, None):
                _wait_for_the_end(self, original)

        return copy_identity(join, original)


class IsAlive:
    """``Thread.is_alive``: when a thread ends is timing; the recorded answer is replayed."""

    @staticmethod
    def record(entry, original, tape):
        header = Headers(tape, IS_ALIVE, False).returned

        def is_alive(self):
            if not _Threads.started or guard.busy:
                return original(self)
            with bypass():  # one event: its inside (Event._flag reads) is not replayed
                alive = original(self)
            tape.returned(header, alive)
            return alive

        return copy_identity(is_alive, original)

    @staticmethod
    def replay(entry, original, player):
        def is_alive(self):
            if not _Threads.started or guard.busy:
                return original(self)
            alive = player.answer(IS_ALIVE, None)
            if not alive:
                with bypass():
                    started = self._started.is_set()
                if started:  # (a thread never started has no end to wait for: join() raises)
                    _wait_for_the_end(self, original_join)
                with bypass():
                    original(self)  # the state it sets (is_alive() caches the end in 3.11)
            return alive

        return copy_identity(is_alive, original)


def _wait_for_the_end(thread, join) -> None:
    """The recording saw ``thread`` ended; in the replay it has taken its last event (it
    came before this one on the tape) but its OS thread may still be ending. Wait for that
    (no turn is needed: it runs none of the program's code any more), so that what the
    end sets, which ``repr(thread)`` and ``is_alive()`` read, is the recording's."""
    with bypass():
        join(thread, ENDING_THREAD_WAIT)


class ThreadList:
    """``threading.enumerate`` and ``threading.active_count``: which threads are still
    there is timing (a thread leaves the list after its last event), so the call is an
    event, taken at its turn, with the logical ids (or the count) the recording saw. anyio's
    suite joins the worker threads it finds in ``threading.enumerate()``: a replay found
    them gone already, and did not join."""

    @staticmethod
    def record(entry, original, tape):
        header = Headers(tape, entry.qualified_name, False).returned
        counting = entry.name == "active_count"

        def listed():
            if not _Threads.started or guard.busy:
                return original()
            with bypass():
                threads = original()
            tape.returned(header, threads if counting else tape.logical_threads([t.ident for t in threads]))
            return threads

        return copy_identity(listed, original)

    @staticmethod
    def replay(entry, original, player):
        name, counting = entry.qualified_name, entry.name == "active_count"

        def listed():
            if not _Threads.started or guard.busy:
                return original()
            # The list is read before the turn passes on: a thread whose next event comes
            # after this one has not ended yet.
            _raised, _arguments, recorded = player.take(name, None)
            try:
                if counting:
                    return recorded
                by_logical: dict = {}
                for thread in original():
                    by_logical.setdefault(player.thread_of(thread_idents.real(thread.ident)), []).append(thread)
                return [by_logical[logical].pop(0) for logical in recorded if by_logical.get(logical)]
            finally:
                player.pass_turn()

        return copy_identity(listed, original)


def original_is_alive(thread) -> bool:
    """``Thread.is_alive`` as the standard library has it, without an event."""
    method = sys.modules["threading"].Thread.__dict__["is_alive"]
    return getattr(method, "__wrapped__", method)(thread)


def original_join(thread, timeout=None) -> None:
    """``Thread.join`` as the standard library has it, without an event."""
    method = sys.modules["threading"].Thread.__dict__["join"]
    getattr(method, "__wrapped__", method)(thread, timeout)


class SharedAttribute:
    """An instance attribute that threads share without a lock (``socketserver``'s shutdown
    flag): once threads exist, each read is an event with the value read, each write an
    event with the value written, and replay reads what was recorded. Which thread saw
    the write first is timing, and the tape now holds it."""

    @staticmethod
    def record(entry, original, tape):
        name = entry.name.rpartition(".")[2]
        read = Headers(tape, f"{entry.qualified_name}.read", False).returned
        written = Headers(tape, f"{entry.qualified_name}.write", False).returned
        returned = tape.returned

        class Recorded(_SharedAttribute):
            def __get__(self, instance, owner=None):
                if instance is None:
                    return self
                value = _value_of(instance, name)
                if _Threads.started and not guard.busy:
                    returned(read, value)
                return value

            def __set__(self, instance, value):
                if _Threads.started and not guard.busy:
                    returned(written, value)
                instance.__dict__[name] = value

        return Recorded()

    @staticmethod
    def replay(entry, original, player):
        name = entry.name.rpartition(".")[2]
        read, written = f"{entry.qualified_name}.read", f"{entry.qualified_name}.write"

        class Replayed(_SharedAttribute):
            def __get__(self, instance, owner=None):
                if instance is None:
                    return self
                value = _value_of(instance, name)
                if _Threads.started and not guard.busy:
                    return player.answer(read, None)
                return value

            def __set__(self, instance, value):
                if _Threads.started and not guard.busy:
                    player.answer(written, None)
                instance.__dict__[name] = value

        return Replayed()


class _SharedAttribute:
    """A data descriptor (it has ``__set__``), so it comes before the instance's
    ``__dict__``, where the value stays."""


def _value_of(instance, name: str):
    """The attribute as the instance holds it; one it lacks (a ``Thread`` that is not a
    pool's handler has no ``_state``) raises AttributeError, not an event, as it did."""
    try:
        return instance.__dict__[name]
    except KeyError:
        raise AttributeError(f"{type(instance).__name__!r} object has no attribute {name!r}") from None


class PythonSimpleQueue:
    """``queue.SimpleQueue`` becomes ``queue._PySimpleQueue``, whose hand-offs are events."""

    @staticmethod
    def record(entry, original, tape):
        return sys.modules["queue"]._PySimpleQueue

    replay = record
