"""asyncio made deterministic: the hand-off from other threads, and the order of tasks.

Tasks by number. A task hashes by its address (``object.__hash__``), and programs keep
tasks in sets: anyio's cancel scopes and task groups, ``asyncio.all_tasks()`` (a
``WeakSet``). A set iterates by hash, and the replay allocates otherwise than the
recording did, so the replay cancelled and woke tasks in another order and ran the loop's
callbacks in another order (anyio's suite, V8 in docs/compatibility.md). ``asyncio.Task``
is a subclass here whose tasks hash by the order they were made in, the same in the
recording and in every replay. ``asyncio.eager_task_factory`` (3.12+) keeps the class it
was made with.

The hand-off from other threads, made an ordering point.

``loop.call_soon_threadsafe`` (which ``run_in_executor``, ``to_thread`` and
``run_coroutine_threadsafe`` use to hand a result back) appends to the loop's ready
queue from the calling thread without a lock, then wakes the loop through its self-pipe.
Whether the loop had already looked at its ready queue when the append happened is a
data race the tape cannot see, and a replay that lost it ran the loop differently.

So, once the program has threads, a call from another thread than the loop's puts the
handle into a queue of its own under a lock (hand-offs that are events) and wakes the
loop as before; the loop moves those handles to its ready queue when it reads its
self-pipe (a recorded socket read), under the same lock. The callback runs one loop
iteration later than it might have, which asyncio never promised otherwise, and in the
same iteration in the recording and in every replay. The same wrappers run in both.

"The loop's thread" is the thread that ran the loop last (``run_forever`` notes it), not
``loop._thread_id``, which is None between two runs: an executor thread that finished
while the loop was stopped (tornado's suite: a resolver's thread, between two tests)
would otherwise take one path in the recording and the other in a replay where the loop
had already started again. Before its first run the loop belongs to the thread that made
it: "not yet run" let an executor thread that finished before the first run take the
unlocked path, and whether it had was a race between two threads' code between events
(``run_in_executor`` then ``run_until_complete``: the recorded worker slept while the
loop started, the replayed one does not sleep).
"""
from __future__ import annotations

import _thread
import collections
import itertools

from retrace_core.boundary.guard import guard
from retrace_core.boundary.threads import _Threads
from retrace_core.boundary.wrappers import copy_identity, standing_for

__tracebackhide__ = True

_get_ident = _thread.get_ident
_PENDING = "_retrace_threadsafe"  # on the loop: (lock, deque of handles from other threads)
_OWNER = "_retrace_owner"  # on the loop: the thread that ran it last


def _threadsafe_call(original):
    def call_soon_threadsafe(self, callback, *args, context=None):
        if not _Threads.started or guard.busy or self.__dict__.get(_OWNER) in (None, _get_ident()):
            return original(self, callback, *args, context=context)
        self._check_closed()
        if self._debug:
            self._check_callback(callback, "call_soon_threadsafe")
        from asyncio import events

        handle = events.Handle(callback, args, self, context)
        if handle._source_traceback:
            del handle._source_traceback[-1]
        lock, pending = _pending(self)
        with lock:
            pending.append(handle)
            # Under the lock: a recorded call's event is written when the call returns, and
            # the loop may see the byte before that; it reads the handles under this lock,
            # so the send's event comes before, and a replay sends before the loop closes.
            self._write_to_self()
        return handle

    return copy_identity(call_soon_threadsafe, original)


def _owned(original):
    def run_forever(self):
        self.__dict__[_OWNER] = _get_ident()
        return original(self)

    return copy_identity(run_forever, original)


def _born(original):
    def __init__(self, *args, **kwargs):
        self.__dict__[_OWNER] = _get_ident()
        original(self, *args, **kwargs)

    return copy_identity(__init__, original)


def _pending(loop) -> tuple:
    found = loop.__dict__.get(_PENDING)
    if found is None:
        import threading

        # setdefault: two threads that both found none keep one pair
        found = loop.__dict__.setdefault(_PENDING, (threading.Lock(), collections.deque()))
    return found


def _reader(original):
    def _read_from_self(self):
        original(self)
        # Whether another thread has handed something over yet is the race this module
        # takes away: once there are threads, the loop always takes the lock (an event).
        if _Threads.started and not guard.busy:
            lock, pending = _pending(self)
            with lock:
                while pending:
                    self._ready.append(pending.popleft())

    return copy_identity(_read_from_self, original)


def _checked_across_threads(original: type) -> type:
    """``asyncio.Future`` whose ``cancelled()``, asked from another thread than its loop's,
    is ordered against ``cancel()``: both take the loop's hand-off lock once there are
    threads. anyio's worker thread checks whether the caller gave up on a job before
    running it (``if not future.cancelled()``), while the loop may be cancelling it: a race
    the tape cannot see, which a replay lost (anyio's suite: the replayed worker skipped a
    job the recorded one ran). ``isinstance`` answers for the C class, so tasks and futures
    made by C code stay ``asyncio.Future`` instances."""

    def cancel(self, msg=None):
        if not _Threads.started or guard.busy:
            return original.cancel(self, msg)
        with _pending(self.get_loop())[0]:
            return original.cancel(self, msg)

    def cancelled(self):
        if not _Threads.started or guard.busy:
            return original.cancelled(self)
        loop = self.get_loop()
        if loop.__dict__.get(_OWNER) in (None, _get_ident()):
            return original.cancelled(self)
        with _pending(loop)[0]:
            return original.cancelled(self)

    return standing_for(original, {"__slots__": (), "cancel": cancel, "cancelled": cancelled})


def _in_both_modes(make, doc: str) -> type:
    """A table special whose wrapper is the same recording and replaying."""
    return type(make.__name__, (), {"__doc__": doc,
                                    "record": staticmethod(lambda entry, original, tape: make(original)),
                                    "replay": staticmethod(lambda entry, original, player: make(original))})


ThreadsafeCall = _in_both_modes(_threadsafe_call, "BaseEventLoop.call_soon_threadsafe, from another thread")
OwnedRun = _in_both_modes(_owned, "BaseEventLoop.run_forever: notes the thread that runs the loop")
OwnedFromBirth = _in_both_modes(_born, "BaseEventLoop.__init__: the loop's thread, until it first runs")
OrderedFutures = _in_both_modes(_checked_across_threads, "asyncio.Future: cancelled() from another thread is ordered")
ReadFromSelf = _in_both_modes(_reader, "BaseSelectorEventLoop._read_from_self: takes in what threads handed over")


def _numbered(original: type) -> type:
    """``original`` (a class whose objects hash by address) whose objects hash by the order
    they were made in, the same in the recording and in every replay (see above)."""
    numbers = itertools.count(1)

    def __init__(self, *args, **kwargs):
        # Before the object can be hashed: a task registers itself in asyncio's WeakSet.
        self._retrace_number = next(numbers)
        original.__init__(self, *args, **kwargs)

    def __hash__(self) -> int:
        return self._retrace_number

    return type(original.__name__, (original,), {
        "__slots__": ("_retrace_number",), "__init__": __init__, "__hash__": __hash__,
        "__module__": original.__module__, "__qualname__": original.__qualname__, "__doc__": original.__doc__})


NumberedTasks = _in_both_modes(_numbered, "asyncio.Task: tasks hash by the order they were made in")
NumberedCancelScopes = _in_both_modes(_numbered, "anyio's asyncio CancelScope: kept in sets of child scopes")
