"""Runs without the tracer, in the replay worker: a move's fast-forward to an event, and a
logpoint's sighting of its line on the way (a mixin of engine.Engine).

Untraced, the program runs at the speed of a plain replay: nothing counts positions. A
run is traced on from the event it ran to, whose position the indexing pass measured. A
sighting (csrc/monitor.c over sys.monitoring, csrc/tracer.c on 3.11) is told each run of the breakpoints' line
meanwhile and notes the expression's value there, with the events consumed before it: the
controller (control/sightings.py) names the run by those and its count since, and finds
its position later, only when someone asks.
"""
from __future__ import annotations

import time

from retrace_core.control import watching

_monotonic = time.monotonic  # taken before the replay patches time (see engine.py)


class UntracedRuns:
    """Needs ``player``, ``tracer``, ``request`` and ``_single_threaded`` of the engine."""

    _untraced_to: tuple[int, int] | None = None  # (event, position)
    _untraced_span = 0  # positions the run went through untraced, for the Stopped reply
    sighting: Sighting | None = None

    def _run_untraced(self, run) -> None:
        """A run to a target far from where this worker stands: the program runs without
        the tracer until the event ``run.untraced_to`` names is consumed, and is traced
        from there, counting on from that event's position. Only where one thread runs:
        the tracer is per thread, and the indexing pass has seen no other thread there
        (the controller checks `Index.threaded`)."""
        event, position = run.untraced_to
        if event <= self.player.consumed or not hasattr(self.tracer, "resume") or not self._single_threaded() \
                or self.player.follow:  # a forked child's events are numbered from its own tape's start
            return
        self._untraced_to = (event, position)
        self._untraced_span = position - self.tracer.position
        if self._tracing:
            self.tracer.stop()
            self._tracing = False

    def _start_sighting(self, run) -> None:
        """``run.sight``: the breakpoint's runs while untraced, with ``run.sight`` (an
        expression) at each. When they cannot be told (no untraced run, the reference tracer)
        the run goes to its target without stopping at the breakpoint, and reports no
        sighting: the controller traces that stretch instead."""
        sighting = Sighting(run.sight, self.player)
        if self._untraced_to is not None and hasattr(self.tracer, "sight") and self.tracer.sight(sighting.seen_at):
            self.sighting = sighting
        else:
            self.tracer.set_breakpoints([])

    def _stop_sighting(self) -> None:
        if self.sighting is not None and not self.sighting.stopped:
            self.sighting.stopped = True
            self.sighting.whole = self.tracer.unsight()

    def _sighted(self) -> list | None:
        """What the sighting saw, once it has stopped (then forgotten)."""
        sighting, self.sighting = self.sighting, None
        return sighting.runs if sighting is not None and sighting.stopped and sighting.whole else None

    def _trace_again(self, position: int) -> None:
        self._stop_sighting()
        self._untraced_to = None
        self.tracer.resume(position)
        self._tracing = True
        self._clock = (_monotonic(), position)
        self._arm()
        if self.snapshot_target is not None:
            # A snapshot at the first line traced: a step back from the target replays from
            # there, not from the snapshot this run started at, far before.
            self.snapshot_target = position + 1
            self.tracer.set_target(min(t for t in (self.request.target, position + 1) if t is not None))


class Sighting:
    """The runs of a logpoint's line seen while untraced: [events consumed, line, value]."""

    def __init__(self, expression: str, player) -> None:
        self.code = watching.compiled(expression)
        self.player = player
        self.runs: list[list] = []
        self.stopped = False
        self.whole = False  # it saw the whole stretch

    def seen_at(self, frame) -> None:
        """Called by the tracer (csrc/monitor.c) as the line runs, its lines not counted."""
        value = watching.evaluate(self.code, frame) if self.code is not None else watching.UNSET
        self.runs.append([self.player.consumed, frame.f_lineno, value])
