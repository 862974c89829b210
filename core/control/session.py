"""Session: the controller of one replayed process, headless and UI-free.

It starts a replay worker, runs a first indexing pass to the end (mapping every event
to its position, noting exceptions, collecting snapshots), and then moves through the
run with a small set of verbs. Every move is a forward run: from the active worker when
the target lies ahead of it, else from the newest snapshot at or before the target.
Backward verbs run forward from a snapshot while the tracer remembers the last position
that satisfies the verb's predicate, widening to older snapshots until one does.
"""
from __future__ import annotations

import os
import time

from retrace_core import ours
from retrace_core.control import assertions, line_map, session_folder, sightings
from retrace_core.control.conditions import is_pure
from retrace_core.control.looking import Looking
from retrace_core.control.messages import (
    Breakpoint,
    Finished,
    Message,
    Remember,
    Run,
    Step,
    Stopped,
)
from retrace_core.control.run_index import Index, TestRun, tests_from_markers
from retrace_core.control.snapshots import SnapshotPolicy
from retrace_core.control.stops import Cancelled, NotIndexed, Stop, indexed_only
from retrace_core.control.watches import WatchList
from retrace_core.control.workers import EngineError, Process, SnapshotLost, WorkerDied, Workers
from retrace_core.replay import runner
from retrace_core.replay import worker as replay_worker
from retrace_core.tape.format import TAPE_SUFFIX
from retrace_core.tape.recording import Recording

__all__ = ["Cancelled", "EngineError", "Index", "Session", "Stop", "TestRun", "WorkerDied"]


class Session(Looking):
    """One recorded process opened for time travel, in the controller: the verbs a front end
    calls (the TUI, `inspect`, the DAP adapter), each answered by a worker replaying from
    the nearest snapshot, so no front end knows about processes, sockets or positions' cost."""

    def __init__(self, recording: str, pid: int | None = None, tracer: str = "c",
                 policy: SnapshotPolicy | None = None, on_progress=None, untraced: bool = True,
                 traced_lead: float | None = None, index: bool = True, tape=None) -> None:
        """Start the worker and run the indexing pass; ``on_progress(events_done,
        events_total)`` is called as it goes (from this thread). ``index`` False: no
        indexing pass, for `first_look.look_at_failure` (after it, moves within what it
        replayed; see there). ``tape``: the process's tape when the caller has read it already.
        ``untraced``: a goto runs
        untraced up to the last event ``traced_lead`` seconds of traced replay before its
        target (`Index.untraced_stretch`; by default one snapshot interval: the worker takes
        a snapshot where it starts tracing, so a step back from the target replays that
        much at most)."""
        self.recording = recording
        self.untraced = untraced
        self._traced_rate = 0.0  # positions per second of traced replay, from the indexing pass
        self.untraced_positions = 0  # positions moves went through untraced (for tests and the bench)
        self.on_progress = on_progress
        self._cancelled = False
        self.policy = policy or SnapshotPolicy()
        self.traced_lead = self.policy.interval if traced_lead is None else traced_lead
        self._folder = session_folder.create()
        self._socket_path = os.path.join(self._folder, "control.sock")
        self.workers = Workers(self._socket_path, self.policy, os.path.join(self._folder, "worker.log"))
        self.workers_lost = 0  # workers that died in a move and were replaced from a snapshot
        self.stop: Stop | None = None
        self.index = Index()
        self.indexed = index
        self.begins = 0  # the first snapshot moves may start from: the run's start, or (first_look.py) later
        self.counted_from: int | None = None  # first_look.py: the events consumed where counting began at BASE
        self.breakpoints: list[tuple[str, int, str | None]] = []
        self._last_reply_hit: int | None = None
        self.note: str | None = None  # why the last move was slow, if we know (see take_note)
        self.watchlist = WatchList(self)
        self.sights = tracer in ("c", "settrace")  # a logpoint sees its runs untraced (sightings.py)
        self.run_positions: dict[tuple, dict[int, int]] = {}  # sightings.goto_run: runs found
        self._last_watched: dict | None = None  # what the last run's watches found
        prepared = runner.prepare(recording, pid, self._folder)
        self.pid = prepared.pid
        if tape is not None and tape.name == f"{self.pid}{TAPE_SUFFIX}":
            self.tape = tape
        else:
            with Recording(recording) as opened:
                self.tape = opened.tape(self.pid)
        environment = dict(prepared.environment)
        environment.update({ours.ENGINE_SOCKET: self._socket_path, ours.TRACER: tracer,
                            replay_worker.ECHO_OUTPUT: "0",
                            replay_worker.REPORT_PATH: os.path.join(self._folder, "report.json")})
        self.workers.on_snapshot = self._snapshot_taken
        try:
            self.workers.start(prepared.command, environment, prepared.cwd or self._folder)
            if index:
                self._index()
            else:
                self.stop = Stop(position=0, event=0, reason="start")
        except BaseException:
            self.close()
            raise

    @property
    def worker(self) -> Process | None:
        """The active worker (None after it died, until the next move forks one)."""
        return self.workers.worker

    @property
    def _snapshots(self) -> dict[int, Process]:
        if self.begins:  # a first look: positions before `begins` are not this replay's
            return {p: process for p, process in self.workers.snapshots.items() if p >= self.begins}
        return self.workers.snapshots

    def _request(self, message: Message, expect: tuple[type[Message], ...]) -> Message:
        if self._cancelled:  # once raised, the cancel is spent: the next request goes on
            self._cancelled = False
            raise Cancelled("cancelled")
        try:
            return self.workers.request(message, expect)
        except WorkerDied:
            if self._cancelled:
                self._cancelled = False
                raise Cancelled("cancelled") from None
            raise  # a worker that died by itself: _run replaces it

    def _snapshot_taken(self, event: int) -> None:
        if self.on_progress is not None:
            self.on_progress(event, len(self.tape.events))

    # -- the indexing pass ------------------------------------------------------------

    def _index(self) -> None:
        started = time.monotonic()
        reply = self._request(Run(index=True), (Finished,))
        self._traced_rate = reply.position / max(time.monotonic() - started, 1e-3)  # positions per second
        self.index = Index(end=reply.position, exit_status=reply.exit_status,
                           event_positions=list(reply.event_positions), uncaught=reply.uncaught,
                           divergence=reply.divergence, markers=list(reply.markers),
                           threaded=list(reply.threaded), line_map=reply.line_map,
                           depth_floors=[list(floor) for floor in reply.depth_floors],
                           stretch_breaks=[list(cut) for cut in reply.stretch_breaks])
        self.index.tests = tests_from_markers(self.index.markers, self.index.end)
        self.policy.end = self.index.end  # what the last snapshot covers
        self._update(reply)

    def _update(self, reply: Stopped | Finished) -> Stop:
        self._last_reply_hit = reply.last_hit
        self._last_watched = reply.watched
        self.untraced_positions += getattr(reply, "untraced", 0)
        if isinstance(reply, Finished):
            self.stop = Stop(position=reply.position, event=reply.event,
                             reason="diverged" if reply.divergence else "end", finished=True)
        else:
            self.stop = Stop(position=reply.position, event=reply.event, reason=reply.reason,
                             thread=reply.thread, depth=reply.depth, file=reply.file, line=reply.line,
                             function=reply.function, returned=reply.returned)
        return self.stop

    # -- moving ---------------------------------------------------------------------

    def _worker_from_snapshot(self, position: int) -> None:
        """Replace the active worker by a fork of the newest snapshot at or before ``position``."""
        candidates = [p for p in self._snapshots if p <= position]
        if not candidates and self.begins:
            raise NotIndexed("other threads ran in the failing test, so the first look kept no snapshot there: "
                             "going back waits for the index")
        if not candidates:
            raise EngineError(f"no snapshot at or before position {position}")
        snapshot = self._snapshots[max(candidates)]
        stretch = self.index.threads_between(snapshot.position, position) if self.index else None
        if stretch:
            self.note = (f"threads ran from position {stretch[0]}, where no snapshot can be taken: "
                         f"this move replayed from position {snapshot.position}")
        try:
            self.workers.fork_from(snapshot)
        except SnapshotLost:  # forgotten now: the next older one
            self.workers_lost += 1
            self._worker_from_snapshot(position)
            return
        self.stop = Stop(position=snapshot.position, event=-1, reason="snapshot")

    def _run(self, run: Run) -> Stop:
        """Run the active worker on; a worker that dies is replaced from a snapshot (the
        snapshots never ran, so they are intact) and the run is tried once more."""
        start = self.stop
        try:
            reply = self._request(run, (Stopped, Finished))
        except WorkerDied:
            self.workers_lost += 1
            self._worker_from_snapshot(start.position)
            if start.position > self.stop.position:
                self._update(self._request(Run(target=start.position, snapshots=False), (Stopped, Finished)))
            reply = self._request(run, (Stopped, Finished))
        stop = self._update(reply)
        if isinstance(reply, Finished) and reply.divergence and not (self.index and self.index.diverged_at(reply.divergence)):
            # The indexing pass ran to this point exactly: this move replayed otherwise.
            raise EngineError(f"the replay diverged in this move, where the indexing pass did not: "
                              f"{reply.divergence.get('message')}")
        return stop

    def take_note(self) -> str | None:
        """Why the moves since the last call were slow (threads kept snapshots away), once."""
        note, self.note = self.note, None
        return note

    def cancel(self) -> None:
        """From another thread, while a move runs: stop it. The move raises Cancelled,
        and the session has no active worker until the next move (which starts one from
        a snapshot). The cancel holds until a request of the move raises Cancelled, or
        until `end_cancel`: a move is often many runs (a watch's, a step that skips
        library code), and a cancel that came between two of them, or while a worker was
        being forked, must still stop the move."""
        self._cancelled = True
        if self.worker is not None:
            self.workers.kill_worker()

    def end_cancel(self) -> None:
        """The move a cancel was for has ended (cancelled, or done before the cancel could
        act): the next one starts afresh. Front ends call it after each move."""
        self._cancelled = False

    def goto(self, position: int) -> Stop:
        """Stop at ``position`` (clamped to the run): forward from the worker or a snapshot."""
        if position < self.begins:  # a first look goes back no further than it replayed
            stop = self.goto(self.begins)
            stop.reason = "look-start"
            return stop
        position = max(1, min(position, self.index.end))
        current = self.stop
        nearest = max((p for p in self._snapshots if p <= position), default=0)
        if current is None or current.finished or current.position > position or self.worker is None \
                or nearest > current.position:  # a snapshot nearer the target than the worker
            self._worker_from_snapshot(position)
        if self.stop.position == position and self.stop.reason != "snapshot":
            return self.stop
        lead = int(self._traced_rate * self.traced_lead)
        untraced = self.index.untraced_stretch(self.stop.position, position, lead) if self.untraced else None
        return self._run(Run(target=position, untraced_to=untraced))

    def step_into(self) -> Stop:
        if self.stop.position >= self.index.end:
            self._forward_to_end()  # from the last line: the program ends
            return self.stop
        return self.goto(self.stop.position + 1)

    def back_into(self) -> Stop:
        return self.goto(self.stop.position - 1)

    def next(self) -> Stop:
        """The next line in this thread at this depth or shallower (over calls)."""
        return self._forward(Run(step=Step(self.stop.thread, self.stop.depth)))

    def finish(self) -> Stop:
        """Run until the current function returns to its caller."""
        return self._forward(Run(step=Step(self.stop.thread, self.stop.depth - 1)))

    def continue_(self) -> Stop:
        """On to the next breakpoint, or to just after the line that changed a watched
        value (reason "watch"; ``Stop.line`` is that line, ``Stop.watch`` says what changed)."""
        watch, breakpoints = self.watchlist.forward_watch(), self._breakpoint_list()
        if watch is None and breakpoints and self.untraced and self.index.line_map is not None \
                and not self.stop.finished:
            stop = line_map.next_breakpoint_hit(self, breakpoints)
        else:
            stop = self._forward(Run(breakpoints=breakpoints, watch=watch))
        self.watchlist.after_forward(stop, self._last_watched)
        return stop

    def _forward(self, run: Run) -> Stop:
        if self.stop.finished:
            return self.stop
        return self._run(run)

    def back(self) -> Stop:
        return self._backward(Remember(step=Step(self.stop.thread, self._depth())))

    def back_finish(self) -> Stop:
        depth = self._depth()
        return self._backward(Remember(step=Step(self.stop.thread, depth - 1 if not self.stop.finished else depth)))

    def _depth(self) -> int:
        """The stop's depth; from the end of the run, the outermost program frame's."""
        return self.stop.depth if not self.stop.finished else 1

    def reverse_continue(self) -> Stop:
        """Back to the last breakpoint hit, or to the line whose execution last changed a
        watched value (before it runs: the old value shows), whichever came later."""
        here, changes = self.stop.position, self.watchlist.backward(latest=True) if self.watchlist.watches else None
        found = [(change[0], watch_id, change) for watch_id, listed in (changes or {}).items()
                 for change in listed if change[0] < here]
        watch_hit = max(found) if found else None
        breakpoint_hit = None
        if self.breakpoints:  # without any, no search: the start of the run, or the watch hit
            if changes is not None:
                self.goto(here)  # the breakpoints' search starts from where we stood
            breakpoint_hit = self._backward_hit(Remember(breakpoints=True), self._breakpoint_list())
        if watch_hit is None or (breakpoint_hit is not None and breakpoint_hit > watch_hit[0]):
            return self.goto(breakpoint_hit if breakpoint_hit is not None else 1)
        position, watch_id, (changed_at, line, _seen, old, new, _call) = watch_hit
        stop = self.goto(position)
        stop.reason = "watch"
        stop.watch = {"id": watch_id, "expression": self.watchlist.watches[watch_id]["expression"],
                      "old": old, "new": new, "line": line, "changed_at": changed_at}
        return stop

    # -- watches (watches.py) ---------------------------------------------------------------

    @indexed_only
    def watch(self, expression: str, frame: int = 0, condition: str | None = None) -> int:
        """Watch ``expression`` (free of side effects) in the stop's frame ``frame`` while
        its call runs: continue_ and reverse_continue stop where its value changes."""
        return self.watchlist.add(expression, frame, condition)

    def unwatch(self, watch_id: int) -> None:
        self.watchlist.remove(watch_id)

    @indexed_only
    def history(self, expression: str, frame: int = 0, all_calls: bool = False) -> list[dict]:
        """Each change of ``expression`` in the frame's call: position, line, value."""
        return self.watchlist.history(expression, frame, all_calls)

    @indexed_only
    def logpoint(self, file: str, line: int, expression: str, positions: bool = False) -> list[dict]:
        """``expression`` at every run of ``file``:``line`` in the recording: event, value,
        and position, which is None until asked for (`goto_run`, `position_of`) unless
        ``positions`` (then the whole run is traced: slower). See sightings.py."""
        return self.watchlist.logpoint(assertions.resolve_file(self, file), line, expression, positions)

    @indexed_only
    def goto_run(self, run: dict) -> Stop:
        """Stop at one run of a logpoint's line (a dict of `logpoint`'s)."""
        return sightings.goto_run(self, run)

    @indexed_only
    def position_of(self, run: dict) -> int:
        """The position of one run of a logpoint's line; the session stays."""
        return sightings.position_of(self, run)

    @indexed_only
    def origin(self, expression: str, frame: int = 0) -> dict:
        """The line that last assigned ``expression`` and the outside event it came from."""
        return self.watchlist.origin(expression, frame)

    def _backward(self, remember: Remember, breakpoints: list[Breakpoint] | None = None,
                  before: int | None = None) -> Stop:
        """The last position before the current one (or before ``before``) that satisfies
        ``remember``; the start of the run when there is none."""
        hit = self._backward_hit(remember, breakpoints, before)
        return self.goto(hit if hit is not None else 1)

    def _backward_hit(self, remember: Remember, breakpoints: list[Breakpoint] | None = None,
                      before: int | None = None) -> int | None:
        """The position `_backward` goes to, searched from the newest snapshot backwards."""
        if before is not None:
            end = min(before - 1, self.index.end)
        else:  # from the end of the run, the last line event counts too
            end = self.stop.position if self.stop.finished else self.stop.position - 1
        if remember.breakpoints and remember.step is None and self.untraced and self.index.line_map is not None:
            return line_map.last_breakpoint_hit(self, remember, breakpoints or [], end)
        while end >= max(1, self.begins):
            start = max((p for p in self._snapshots if p <= end), default=self.begins)
            self._worker_from_snapshot(start)
            # Snapshots on the way: the goto to the hit that follows starts from one close by.
            self._run(Run(target=end, remember=remember, breakpoints=breakpoints or []))
            hit = self._last_reply_hit
            if hit is not None:
                return hit
            if start <= self.begins:
                break
            end = start - 1
        return None

    @indexed_only
    def goto_event(self, number: int) -> Stop:
        positions = self.index.event_positions
        if not 1 <= number <= len(positions):
            raise EngineError(f"no event {number} (the recording has {len(positions)})")
        return self.goto(max(positions[number - 1], 1))

    @indexed_only
    def goto_failure(self, which: int = 0) -> Stop:
        """The line of a failure (`Index.failures`: a failed test's failing line, or the
        line that raised the exception the program died of), the last time that line ran
        before the failure: a reverse-continue to a breakpoint on it."""
        failures = self.index.failures()
        if not failures:
            failed = [test.nodeid for test in self.index.tests if test.outcome == "failed"]
            if failed:
                raise EngineError(f"test {failed[0]} failed without an exception in its code "
                                  f"(a strict xfail that passed?): there is no line to go to")
            raise EngineError("the program did not end with an uncaught exception in its own code, "
                              "and no test failed")
        failure = failures[which % len(failures)]
        file, line = failure["file"], failure["line"]
        stop = self._backward(Remember(breakpoints=True), breakpoints=[Breakpoint(file, line)],
                              before=failure["end"] + 1)
        if (stop.file, stop.line) == (file, line):
            stop.reason = "failure"
        return stop

    def _forward_to_end(self) -> None:
        """From the last line event to the end of the run (the line that raised included)."""
        if not self.stop.finished:
            self._run(Run())

    # -- breakpoints ---------------------------------------------------------------------

    def set_breakpoint(self, file: str, line: int, condition: str | None = None) -> None:
        self.breakpoints.append((os.path.abspath(file) if os.path.exists(file) else file, line, condition))

    def clear_breakpoint(self, file: str, line: int) -> None:
        self.breakpoints = [b for b in self.breakpoints if (b[0], b[1]) != (file, line)]

    def _breakpoint_list(self) -> list[Breakpoint]:
        return [Breakpoint(file, line, condition or None, bool(condition) and is_pure(condition))
                for file, line, condition in self.breakpoints]

    # -- end ------------------------------------------------------------------------

    def close(self) -> None:
        self.workers.close()
        session_folder.remove(self._folder)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
