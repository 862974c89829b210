"""The engine inside a replay worker: runs the replay under the tracer, stops where the
controller asks, answers questions about the stopped program, and forks snapshots.

Roles of one process over its life:

- the *active worker* runs the program forward; it stops at a target position, a
  breakpoint, a step condition or the end, reports, and waits for the next command;
- a *snapshot* is a fork of the active worker, paused at the position it was taken; it
  never runs the program itself. Asked to, it forks a child that becomes the new
  active worker, so the snapshot stays valid however often it is used;
- an *inspection child* is a throw-away fork of a stopped worker that computes reprs
  (which may run user code) and exits.

Every process connects to the controller's socket when born. A paused process whose
controller has gone exits; an active worker dies with its parent (PR_SET_PDEATHSIG).
"""
from __future__ import annotations

import posix
import time

from retrace_core.boundary import gc_guard
from retrace_core.boundary.thread_idents import real_get_ident
from retrace_core.control import inspection, lifetime, watching
from retrace_core.control.conditions import Condition
from retrace_core.control.coroutine_steps import CoroutineSteps
from retrace_core.control.engine_faults import guarded
from retrace_core.control.inspecting import Inspecting
from retrace_core.control.messages import (
    Error,
    Finished,
    Hello,
    Inspect,
    Quit,
    Reap,
    Reaped,
    Run,
    Step,
    Stopped,
)
from retrace_core.control.protocol import Channel
from retrace_core.control.snapshot_forks import SnapshotForks
from retrace_core.control.snapshots import SnapshotPolicy
from retrace_core.control.untraced_runs import UntracedRuns
from retrace_core.trace import scope

# posix's functions, never os's: in a replay worker, _getpid() and friends answer from
# the tape, and time.monotonic() too (these are taken before patching).
_monotonic = time.monotonic
_exit, _getpid = posix._exit, posix.getpid

NO_THREAD = 1  # an ident no thread has: a step in a thread that does not exist yet


class Engine(Inspecting, CoroutineSteps, SnapshotForks, UntracedRuns):
    """The worker's side of a session: it replays the program under the tracer, stops where a
    :class:`~messages.Run` says, forks snapshots, and answers inspections, all from the
    controller's messages on one socket (the program runs on this process's main thread)."""

    def __init__(self, worker, socket_path: str, tracer_factory) -> None:
        self.player = worker.player
        self.socket_path = socket_path
        self.channel = Channel.connect(socket_path)
        excluded, included, ours = scope.engine_scope()
        self.tracer = tracer_factory(excluded, guarded(self, self._on_stop), included, ours)
        self._keep_slot = getattr(self.tracer, "keep_slot", None)  # 3.11: see CTracer.keep_slot
        self.policy = SnapshotPolicy()
        self.main_thread = real_get_ident()
        self.event_positions: list[int] = []  # position at which each event was consumed
        self.indexing = False
        self.request = Run()
        self.snapshot_target: int | None = None
        self._clock = (_monotonic(), 0)  # (time, position) at the last snapshot
        self._rate = 0.0  # positions per second of replay work, over the last stretch between snapshots
        self.frame = None  # the program's frame where this process stopped
        self.conditions: dict[tuple[str, int], list[Condition | None]] = {}  # breakpoints decided in Python
        self._compiled: dict[tuple[str, bool], Condition] = {}  # each condition compiled once
        self._snapshot_pids: list[int] = []  # our children: the snapshots we forked, until reaped
        self.remember_conditional = False  # reverse-continue over conditional breakpoints
        self.conditional_hit: int | None = None
        self.step_coroutine = None  # next/finish from a coroutine: a weak reference to it (see _step_in_coroutine)
        self.step_stays = False  # next from a coroutine: stop only in its own frame while it lives
        self.watcher: watching.Watcher | None = None  # this run's watches (see watching.py)
        self._watch_filter: tuple | None = None  # what the tracer skips for them (Watcher.store_filter)
        self._filtering_watch = False  # the step is the watches' own: it may skip lines
        self._returns: list = []  # the tracer hands a return value here for a moment (see _on_return)
        self.returned: dict | None = None  # next/finish: the last call that returned on the way
        # Each called from the program's code: a fault of ours must not become its exception.
        self.player.listeners.append(guarded(self, self._on_event))
        self.player.thread_hooks.append(guarded(self, self._thread_started))
        self._tracing = False
        self._hit_before: tuple[int | None] | None = None  # Run.before_event: (the last hit before it,)
        self._skip_hits = 0  # Run.skip_hits: breakpoint hits still to pass
        self._line_map = False  # the indexing pass gathers the tracer's line map (csrc/linemap.c)
        self._note_event = self._note_event_position  # indexing: the position of each event
        self._step_thread: tuple[int, int | None] | None = None  # (logical thread, depth) to step in
        self._remember_thread: tuple[bool, int, int | None] | None = None
        self.threaded: list[list[int]] = []  # [from, to] positions where other threads ran
        self.markers: list[list] = []  # [position, kind, data], gathered by the indexing pass
        # The indexing pass, at each snapshot offered: [position, shallowest depth since the
        # previous one] (Index.shallowest_between), [line map stretch, position] (stretch_span)
        self.depth_floors: list[list[int]] = []
        self.stretch_breaks: list[list[int]] = []
        worker.marker_listeners.append(guarded(self, self._on_marker))
        gc_guard.add_ours(self._collecting)

    def _collecting(self, phase: str, info: dict) -> None:
        """A garbage collection runs finalizers when allocations (ours too) say so: their
        lines are not positions."""
        self.tracer.pause(phase == "start")

    # -- life --------------------------------------------------------------------

    def start(self) -> None:
        """Before the program's first line: hello, a snapshot of the start, the first orders, trace."""
        self.channel.send(Hello("worker", _getpid(), 0))
        self._serve(None)
        self._offer_snapshot(0)
        if self._untraced_to is None:
            self._tracing = True
            self.tracer.start()

    def _thread_started(self) -> None:
        """First thing in each thread the program starts (before its first line)."""
        if self._tracing:
            self.tracer.start()  # sys.settrace is per thread
        if self.indexing and not (self.threaded and self.threaded[-1][1] is None):
            self.threaded.append([self.tracer.position, None])  # no snapshot from here on
        logical = self.player.thread_of(real_get_ident())
        ident = real_get_ident()
        if self._step_thread is not None and self._step_thread[0] == logical:
            self.tracer.set_step(ident, self._step_thread[1])
        if self._remember_thread is not None and self._remember_thread[1] == logical:
            breakpoints, _logical, depth = self._remember_thread
            self.tracer.set_remember(breakpoints, ident, depth)

    def finished(self, exit_status: int | None, divergence: dict | None = None,
                 uncaught: dict | None = None) -> None:
        """The program has ended (or diverged): report, then answer until told to quit."""
        self._tracing = False
        self.tracer.stop()
        self._stop_sighting()
        if uncaught is not None:
            uncaught = self._failure(uncaught)
        message = Finished(self.tracer.position, self.player.consumed, exit_status, divergence, uncaught,
                           self._last_hit(), watched=self._watched())
        if self.indexing:
            message.event_positions = self.tracer.take_event_positions() if self._line_map else self.event_positions
            message.threaded = self.threaded
            message.markers = [[position, kind, self._with_failure_line(data)]
                               for position, kind, data in self.markers]
            if self._line_map:
                message.line_map = self.tracer.take_line_map()
            self._note_depth_floor(self.tracer.position)
            message.depth_floors = self.depth_floors
            message.stretch_breaks = self.stretch_breaks
        self.channel.send(message)
        self._serve(None)

    # -- the tracer's callback -------------------------------------------------------

    def _on_marker(self, kind: str, data: dict) -> None:
        if self.indexing:
            self.markers.append([self.tracer.position, kind, data])

    def _on_event(self, number: int, function: str) -> None:
        if self._keep_slot is not None:
            self._keep_slot()
        if self.indexing:
            self._note_event()
        elif self._untraced_to is not None and number == self._untraced_to[0]:
            self._trace_again(self._untraced_to[1])
        elif self._hit_before is None and self.request.before_event is not None \
                and number >= self.request.before_event:
            self._hit_before = (self._last_hit(),)  # what was remembered before this event
            self.request.target = self.tracer.position + 1  # and stop at the next line
            self._arm()

    def tape_switched(self) -> None:
        """Following a forked child: its index begins with its own tape. Its events are
        numbered from 1 again, so every line the line map has seen so far ran before the
        child's first event."""
        self.event_positions.clear()
        self.markers.clear()
        self.stretch_breaks.clear()
        if self._line_map:
            self.tracer.restart_events()

    def _note_event_position(self) -> None:
        """The indexing pass under a tracer without a line map (the Python reference)."""
        self.event_positions.append(self.tracer.position)

    def _on_return(self, frame) -> None:
        """next/finish: a call at the step's depth or deeper by one returned; keep the text
        of its value, not the value (which would outlive its time in the program)."""
        value = self._returns.pop()
        self.returned = {"function": frame.f_code.co_name, "repr": watching.value_text(value),
                         "type": type(value).__qualname__}

    def _on_stop(self, reason: str, frame) -> None:
        if reason == "return":
            return self._on_return(frame)
        position = self.tracer.position
        if reason == "target" and self.snapshot_target is not None and position >= self.snapshot_target:
            self.frame = frame
            self._offer_snapshot(position)
            target = self.request.target
            if target is None or position < target:
                self._arm()
                # The tracer gives a line one reason, the target first: the snapshot's line
                # may also be a breakpoint or where the step stops.
                reason = self._other_reason(frame)
                if reason is None:
                    self.frame = None  # the snapshot has its copy; ours would keep the locals alive
                    return
        if self.watcher is not None:
            found = self.watcher.observe(reason, frame, position, self.tracer.depth(real_get_ident()),
                                         real_get_ident())
            if found is not None:
                reason = found
            elif reason == "step" or (reason == "breakpoint" and self.watcher.mode == "log"):
                self._filter_watch()
                return  # the watch's own step, or a logpoint's line: answered, not a stop
        if reason == "step" and self.step_coroutine is not None and not self._step_may_stop(frame):
            return
        self.frame = frame
        if reason == "target" and self.request.breakpoints and not self.remember_conditional \
                and self._other_reason(frame) == "breakpoint" and (not self.conditions or self._condition_holds(frame)):
            # A run to a target (a continue over the line map) may end on a hit. Not while
            # remembering: a hit there is remembered below and the run ends at its target (made
            # a breakpoint, it was remembered and not a stop: a reverse-continue went on past
            # the position it searched before, and stayed where it was).
            reason = "breakpoint"
        if self.conditions and (reason == "breakpoint" or self.remember_conditional):
            hit = self._condition_holds(frame)
            if self.remember_conditional:
                if hit:
                    self.conditional_hit = position
                if reason == "breakpoint":
                    return  # remembered (or not); breakpoints do not stop while remembering
            elif reason == "breakpoint" and not hit:
                return
        if reason == "breakpoint" and self._skip_hits > 0:  # Run.skip_hits: not this hit yet
            self._skip_hits -= 1
            if self.request.target is None or position < self.request.target:
                return
            reason = "target"
        self.channel.send(self._stopped(reason, frame))
        self._serve(frame)
        # Running again: holding the frame would keep its locals alive after it returns,
        # and the program's finalizers (a pool's weakref.finalize) would run later than recorded.
        self.frame = None

    def _other_reason(self, frame) -> str | None:
        """Why the tracer would have stopped at this line had it not been a target (its
        order: breakpoint, then step); None when it would not have."""
        at = (frame.f_code.co_filename, frame.f_lineno)
        if any((point.file, point.line) == at for point in self.request.breakpoints):
            remembering = self.request.remember is not None and self.request.remember.breakpoints
            if not remembering or self.remember_conditional:  # the latter: remembered below, not a stop
                return "breakpoint"
        step = self.request.step
        if step is not None:
            ident, depth = self._step_args(step)
            here = real_get_ident()
            if (ident is None or ident == here) and (depth is None or self.tracer.depth(here) <= depth):
                return "step"
        return None

    def _last_hit(self) -> int | None:
        if self._hit_before is not None:
            return self._hit_before[0]
        hits = [hit for hit in (self.tracer.last_hit, self.conditional_hit) if hit is not None]
        return max(hits) if hits else None

    def _thread_number(self) -> int:
        if real_get_ident() == self.main_thread:
            return 0
        logical = self.player.thread_of(real_get_ident())
        return -1 if logical is None else logical

    def _stopped(self, reason: str, frame) -> Stopped:
        message = Stopped(reason, self.tracer.position, self.player.consumed, self._thread_number(),
                          self.tracer.depth(real_get_ident()), self._last_hit())
        if frame is not None:
            message.file, message.line, message.function = \
                frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name
        message.watched, message.returned = self._watched(), self.returned
        message.untraced, self._untraced_span = self._untraced_span, 0
        return message

    def _watched(self) -> dict | None:
        sighted = self._sighted()
        if self.watcher is None:
            return None if sighted is None else {"sightings": sighted}
        report = self.watcher.report()
        self.watcher.release()
        self._set_watch_filter(None)
        return report

    def _filter_watch(self) -> None:
        """Let the tracer skip the watched frame's lines that cannot change its watches."""
        if self._filtering_watch:
            self._set_watch_filter(self.watcher.store_filter())

    def _set_watch_filter(self, wanted: tuple | None) -> None:
        if wanted != self._watch_filter and hasattr(self.tracer, "set_watch_filter"):
            self._watch_filter = wanted
            self.tracer.set_watch_filter(*(wanted or (None, None)))

    # -- commands ----------------------------------------------------------------

    def _serve(self, frame) -> None:
        """Answer the controller until it says run (return) or quit (exit). Meanwhile the
        program is paused: its other threads wait for their turns without a deadline."""
        self.player.paused = True
        while True:
            self._reap_snapshots()
            command = self.channel.recv()
            if command is None or type(command) is Quit:
                _exit(0)
            if type(command) is Run:
                self._configure(command)
                self.player.paused = False
                return
            if type(command) is Inspect:
                self._inspect(frame, command)
            elif type(command) is Reap:
                self._reap_snapshots(wait_for=command.pids)
                self.channel.send(Reaped())
            else:
                self.channel.send(Error(f"unknown command {command.kind!r}"))

    def _configure(self, run: Run) -> None:
        self.request = run
        self._untraced_to = None
        self.sighting = None
        self._skip_hits = run.skip_hits
        self._hit_before = None
        self.indexing = run.index
        self._line_map = run.index and hasattr(self.tracer, "gather_line_map")
        self._note_event = self.tracer.note_event if self._line_map else self._note_event_position
        if hasattr(self.tracer, "gather_line_map"):
            # Off in a worker forked from a snapshot of the indexing pass: its copy of the
            # map is left as it is, shared with the snapshot's pages.
            self.tracer.gather_line_map(self._line_map)
        tracer = self.tracer
        tracer.set_breakpoints([(point.file, point.line) for point in run.breakpoints])
        # With a condition anywhere, every breakpoint is decided here, in Python.
        conditional = any(point.condition for point in run.breakpoints)
        self.conditions = {}
        if conditional:
            for point in run.breakpoints:
                self.conditions.setdefault((point.file, point.line), []).append(self._condition(point))
        self.conditional_hit = None
        user_step = step = run.step
        self.watcher = None
        self._filtering_watch = False
        self._set_watch_filter(None)
        if run.watch is not None:
            self.watcher = watching.Watcher(run.watch, self._step_args(Step(run.watch.thread))[0])
            if run.watch.mode == "stop" and self.frame is not None:
                here = real_get_ident()
                self.watcher.start(tracer.position, tracer.depth(here),
                                   inspection.program_frames(self.frame, tracer.rules))
            if run.watch.mode != "log" and step is None:
                step = run.step = Step(run.watch.thread, self.watcher.step_depth())
                self._filtering_watch = True
        self._filter_watch()
        self._step_thread = self._remember_thread = None
        if step is not None:
            tracer.set_step(*self._step_args(step))
            self._step_thread = (step.thread, step.depth)
        else:
            tracer.set_step(None, None)
        self._step_in_coroutine(user_step)
        self.returned, self._returns[:] = None, []
        if user_step is not None and user_step.depth is not None:
            tracer.set_returns(self._step_args(user_step)[0], user_step.depth + 1, self._returns)
        else:
            tracer.set_returns(0, None, None)
        remember = run.remember
        tracer.clear_remembered()
        self.remember_conditional = bool(remember is not None and remember.breakpoints and conditional)
        if remember is not None:
            breakpoints = remember.breakpoints and not conditional
            thread, depth = self._step_args(remember.step) if remember.step is not None else (None, None)
            tracer.set_remember(breakpoints, thread, depth)
            if remember.step is not None:
                self._remember_thread = (breakpoints, remember.step.thread, depth)
        else:
            tracer.set_remember(False, None, None)
        tracer.set_stop_on_exception(run.stop_on_exception)
        self._clock = (_monotonic(), tracer.position)
        self._arm()
        if run.untraced_to is not None:
            self._run_untraced(run)
        if run.sight is not None:
            self._start_sighting(run)

    def _condition(self, point) -> Condition | None:
        """The breakpoint's condition, compiled the first time it is asked for."""
        if not point.condition:
            return None
        key = (point.condition, point.pure)
        if key not in self._compiled:
            self._compiled[key] = Condition(point.condition, point.pure)
        return self._compiled[key]

    def _step_args(self, step: Step) -> tuple[int | None, int | None]:
        """(OS ident, depth) for a step in logical thread ``step.thread``; a thread that is
        yet to start gets its ident when it starts (`_thread_started`)."""
        thread, depth = step.thread, step.depth
        ident = self.main_thread if thread == 0 else self.player.ident_of(thread)
        if ident is None:
            ident = NO_THREAD
        return ident, depth

    def _arm(self) -> None:
        """Set the tracer's target: the requested one, or the next snapshot if sooner."""
        target = self.request.target
        self.snapshot_target = None
        if self.request.snapshots:
            self.snapshot_target = self.policy.next_target(self.tracer.position, self._rate, self.indexing)
        targets = [t for t in (target, self.snapshot_target) if t is not None]
        self.tracer.set_target(min(targets) if targets else None)


def start_engine(worker, socket_path: str, tracer_kind: str) -> Engine:
    """In the first worker, before the program: die with the controller, connect, trace."""
    from retrace_core.trace import tracer_factory

    lifetime.die_with_parent()
    engine = Engine(worker, socket_path, tracer_factory(tracer_kind))
    engine.start()
    return engine
