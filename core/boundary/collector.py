"""Cyclic garbage collections at moments the replay can find again.

The collector runs when the count of young container objects crosses a threshold, and
the recorder, the player and the engine all allocate in the program's process, each
differently: left alone, a collection runs at one line when recorded and at another when
replayed. A collection runs finalizers (`__del__`, `weakref.finalize`, weakref callbacks)
and `gc.callbacks`, and those make boundary calls (urllib3 closes its pooled connections,
logging takes its lock, hypothesis reads the clock): the tape then holds them where the
replay does not make them, and the replay diverges.

So the recording decides where collections run. The collector's real young threshold is
raised far above the program's (``SAFETY_FACTOR`` times), and before each event is put
on the tape, when the young count has crossed the program's threshold, the collection
the interpreter would have run by then runs there: the threshold is lowered for a moment
and one allocation lets CPython pick the generation by its own rules (3.12+ runs it at
the next function call). A ``COLLECT`` record goes on the tape before the events its
finalizers make. The replay disables automatic collection and runs ``gc.collect(gen)``
when the thread that made the collection reaches that record: the same finalizers run
before the same event, in the same thread.

Collections the program asks for (``gc.collect()``) run at the same line in both runs
and need no record. Collections that still happen on their own (the safety net: a
program that allocates ``SAFETY_FACTOR`` times the threshold without a boundary call)
run where they run: the boundary calls of ``gc.callbacks`` in them are kept off the tape
and those of their finalizers are taped where they happen, so a replay that needs either
reports a divergence.

The program sees its own settings: ``gc.get_threshold()`` and ``gc.set_threshold()``
speak of the program's threshold. ``gc.disable()`` turns the collector off in both runs,
so no collection is due while it is off."""
from __future__ import annotations

import gc
import sys

from retrace_core.boundary import gc_guard, wrappers

SAFETY_FACTOR = 100
HEADER_KEY = "collections"  # PROCESS header: "scheduled" when the tape holds COLLECT records
SCHEDULED = "scheduled"

_get_count, _get_threshold, _set_threshold = gc.get_count, gc.get_threshold, gc.set_threshold
_isenabled, _collect = gc.isenabled, gc.collect
NEVER = sys.maxsize


class _Trigger:
    """An allocation the collector counts (lists and dicts come from free lists, which it
    does not count)."""

    __slots__ = ()


def _next_call() -> None:
    """3.12+ run a collection the allocation scheduled at the next function call: this."""


class _ProgramThresholds:
    """The collector's real young threshold is ``SAFETY_FACTOR`` times the program's;
    ``gc.get_threshold()`` and ``gc.set_threshold()`` speak of the program's."""

    def __init__(self) -> None:
        self.program = _get_threshold()

    def install_thresholds(self) -> None:
        gc_guard.placement.placed = True
        self._apply(self.program)
        gc.get_threshold = wrappers.module_function(self.get_threshold, _get_threshold)
        gc.set_threshold = wrappers.module_function(self.set_threshold, _set_threshold)

    def _apply(self, program: tuple) -> None:
        self.program = program
        young = program[0]
        self.real = (young * SAFETY_FACTOR if young else 0, *program[1:])
        _set_threshold(*self.real)

    def get_threshold(self) -> tuple:
        return self.program

    def set_threshold(self, *thresholds) -> None:
        _set_threshold(*thresholds)  # the built-in's own argument checks and errors
        self._apply(_get_threshold())

    def unplaced(self) -> bool:
        """In a collection that is starting, not placed by us: one the collector started
        on its own (the safety net), or the program's own ``gc.collect()``?"""
        return _get_count()[0] > self.program[0] * SAFETY_FACTOR > 0


class RecordedCollections(_ProgramThresholds):
    """The recording side: the collection that is due runs before an event is taped,
    and is taped."""

    def __init__(self, tape) -> None:
        super().__init__()
        self.tape = tape
        self.placing = False

    def install(self) -> None:
        self.install_thresholds()
        gc_guard.add_ours(self._on_collection)

    def _apply(self, program: tuple) -> None:
        super()._apply(program)
        # Below this young count nothing is due; 0 (the program turned thresholds off): never.
        self.tape.collect_over = program[0] or NEVER
        self.tape.collector = self.collect_now

    def collect_now(self) -> None:
        """The collection that is due, here (the tape calls this before an event)."""
        if not _isenabled():
            return
        self.placing = True
        _set_threshold(*self.program)
        try:
            _Trigger()
            _next_call()
        finally:
            # Before anything allocates: with the program's threshold (1, say) any
            # allocation here would start another collection, one the tape would not place.
            _set_threshold(*self.real)
            self.placing = False

    def _on_collection(self, phase: str, info: dict) -> None:
        if phase == "start":
            if self.placing:
                self.tape.collected(info["generation"])
            else:
                gc_guard.placement.unplaced_now = self.unplaced()
        else:
            gc_guard.placement.unplaced_now = False


class ReplayedCollections(_ProgramThresholds):
    """The replay side: the taped collections run where the player meets their records.
    The collector's own threshold stays as high as when recording, so a program that
    allocates without boundary calls still has its garbage collected; what such a
    collection's finalizers ask of the tape is a divergence, reported as any other."""

    def install(self, player) -> None:
        self.install_thresholds()
        player.collect = _collect


def scheduled(header: dict) -> bool:
    """Was this process recorded with its collections on the tape?"""
    return header.get(HEADER_KEY) == SCHEDULED

