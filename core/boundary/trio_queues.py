"""trio's entry queue made an ordering point: the hand-off from other threads.

``trio.to_thread.run_sync`` and ``trio.from_thread`` hand work back to the run through
``EntryQueue.run_sync_soon``, which appends to a deque (or a dict, for idempotent jobs)
under the queue's ``RLock`` and wakes the run through a socket. The run's own task reads
them without the lock: ``len(queue)``, ``queue.popleft()``, ``if not queue``. Whether it
looked before or after another thread's append is a data race the tape cannot see, and a
replay that lost it ran one more or one less turn of the run loop (trio's suite diverged
at event 16,665: "the tape expected file.write(...), the program asked for
select.epoll.poll(...)").

Those reads take the queue's lock here, as the appends do; once the program has threads
every acquire is an event, so the run sees exactly what it saw when recorded. The same
wrapper runs recording and replaying.
"""
from __future__ import annotations

import collections

from retrace_core.boundary.wrappers import copy_identity

__tracebackhide__ = True


class _LockedDeque(collections.deque):
    """A deque whose reads of its length and its first item take ``lock``."""

    __slots__ = ("_retrace_lock",)

    def __len__(self) -> int:
        with self._retrace_lock:
            return collections.deque.__len__(self)

    def popleft(self):
        with self._retrace_lock:
            return collections.deque.popleft(self)


class _LockedDict(dict):
    """A dict whose length and iteration take ``lock``."""

    __slots__ = ("_retrace_lock",)

    def __len__(self) -> int:
        with self._retrace_lock:
            return dict.__len__(self)

    def __iter__(self):
        with self._retrace_lock:
            return iter(list(dict.keys(self)))


# Named as what they stand in for: trio's reprs and type checks see a deque and a dict.
_LockedDeque.__module__, _LockedDeque.__name__, _LockedDeque.__qualname__ = "collections", "deque", "deque"
_LockedDict.__module__, _LockedDict.__name__, _LockedDict.__qualname__ = "builtins", "dict", "dict"


def _locked(kind: type, items, lock):
    made = kind(items)
    made._retrace_lock = lock
    return made


def _ordered(original):
    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.queue = _locked(_LockedDeque, self.queue, self.lock)
        self.idempotent_queue = _locked(_LockedDict, self.idempotent_queue, self.lock)

    return copy_identity(__init__, original)


class OrderedEntryQueue:
    """``trio._core._entry_queue.EntryQueue.__init__``: its queues read under its lock."""

    record = staticmethod(lambda entry, original, tape: _ordered(original))
    replay = staticmethod(lambda entry, original, player: _ordered(original))
