"""Boundary calls made by GC callbacks are not the program's: a collection runs at a
moment set by allocations, which differ between recording and replay.

``gc.callbacks`` is replaced by a list that the program edits as before; the list the
collector really calls (the original object, which C holds) mirrors it with every
callback wrapped to run under the guard. Callbacks of retrace's own (the tracer pauses
during collections) come first in the real list and are not in the program's.

When the recording places collections (boundary/collector.py), a collection runs at the
same moment in the replay, and the callbacks' calls are taped like any others (hypothesis
reads the clock in one and prints what it measured); only a collection the recording could
not place keeps them off the tape."""
import gc

from retrace_core.boundary.guard import guard

_ours: list = []


class _Placement:
    """Set by boundary/collector.py: are collections placed, and is the running one not?"""

    placed = False
    unplaced_now = False


placement = _Placement()


class _Guarded:
    __slots__ = ("callback",)

    def __init__(self, callback):
        self.callback = callback

    def __call__(self, phase, info):
        if placement.placed and not placement.unplaced_now:
            return self.callback(phase, info)
        previous = guard.busy
        guard.busy = True
        try:
            return self.callback(phase, info)
        finally:
            guard.busy = previous


def _mirroring(name):
    method = getattr(list, name)

    def edit(self, *args):
        result = method(self, *args)
        self._sync()
        return result

    edit.__name__ = name
    return edit


class CallbackList(list):
    """The program's ``gc.callbacks``: a list it edits as before, mirrored into the real one
    with each callback wrapped to run under the guard."""

    __slots__ = ("_real",)

    def __init__(self, real):
        super().__init__(real)
        self._real = real

    def _sync(self) -> None:
        self._real[:] = [*_ours, *(_Guarded(cb) for cb in self)]

    for _name in ("append", "insert", "extend", "remove", "pop", "clear", "__setitem__", "__delitem__",
                  "__iadd__", "sort", "reverse"):
        locals()[_name] = _mirroring(_name)
    del _name


def install():
    real = gc.callbacks
    if isinstance(real, CallbackList):
        return
    gc.callbacks = CallbackList(real)
    gc.callbacks._sync()


def add_ours(callback) -> None:
    """A callback of retrace's own, called first at every collection."""
    _ours.append(callback)
    if isinstance(gc.callbacks, CallbackList):
        gc.callbacks._sync()
