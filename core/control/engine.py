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
import threading
import time

from retrace_core.boundary import gc_guard
from retrace_core.control import inspection, lifetime
from retrace_core.control.protocol import Channel
from retrace_core.control.snapshots import SnapshotPolicy
from retrace_core.trace import scope

# posix's functions, never os's: in a replay worker, _getpid() and friends answer from
# the tape, and time.monotonic() too (these are taken before patching).
_monotonic = time.monotonic
_fork, _exit, _getpid, _waitpid = posix.fork, posix._exit, posix.getpid, posix.waitpid

SOCKET_PATH = "_RETRACE_ENGINE"  # env: the controller's listening socket
TRACER = "_RETRACE_TRACER"  # env: "c" (csrc) or "python" (the reference tracer)


class Engine:
    def __init__(self, worker, socket_path: str, tracer_factory) -> None:
        self.worker = worker
        self.player = worker.player
        self.socket_path = socket_path
        self.channel = Channel.connect(socket_path)
        excluded, included, ours = scope.engine_scope()
        self.tracer = tracer_factory(excluded, self._on_stop, included, ours)
        self.policy = SnapshotPolicy()
        self.main_thread = threading.get_ident()
        self.event_positions: list[int] = []  # position at which each event was consumed
        self.indexing = False
        self.request: dict = {}
        self.snapshot_target: int | None = None
        self._clock = (_monotonic(), 0)  # (time, position) at the last snapshot
        self._rate = 0.0  # positions per second of replay work, over the last stretch between snapshots
        self.frame = None  # the program's frame where this process stopped
        self.conditions: dict[tuple[str, int], list[str | None]] = {}  # breakpoints decided in Python
        self.remember_conditional = False  # reverse-continue over conditional breakpoints
        self.conditional_hit: int | None = None
        self.player.listeners.append(self._on_event)
        self.markers: list[list] = []  # [position, kind, data], gathered by the indexing pass
        worker.marker_listeners.append(self._on_marker)
        gc_guard.add_ours(self._collecting)

    def _collecting(self, phase: str, info: dict) -> None:
        """A garbage collection runs finalizers when allocations (ours too) say so: their
        lines are not positions."""
        self.tracer.pause(phase == "start")

    # -- life --------------------------------------------------------------------

    def start(self) -> None:
        """Before the program's first line: say hello, leave a snapshot of the start,
        take the first orders, trace."""
        self.channel.send({"kind": "hello", "role": "worker", "pid": _getpid(), "position": 0})
        self._serve(None)
        self._offer_snapshot(0)
        self.tracer.start()

    def finished(self, exit_status: int | None, divergence: dict | None = None,
                 uncaught: dict | None = None) -> None:
        """The program has ended (or diverged): report, then answer until told to quit."""
        self.tracer.stop()
        if uncaught is not None:
            uncaught = self._failure(uncaught)
        message = {"kind": "finished", "position": self.tracer.position, "exit_status": exit_status,
                   "event": self.player.consumed, "divergence": divergence, "uncaught": uncaught}
        if self.indexing:
            message["event_positions"] = self.event_positions
            message["markers"] = [[position, kind, self._with_failure_line(data)]
                                  for position, kind, data in self.markers]
        self.channel.send(message)
        self._serve(None)

    def _with_failure_line(self, data: dict) -> dict:
        """A test's failure as `_failure` gives it: at the innermost program frame."""
        failure = data.get("failure")
        return {**data, "failure": self._failure(failure)} if failure else data

    def _failure(self, uncaught: dict) -> dict:
        """Where the program failed: the innermost frame of the uncaught exception's
        traceback that is program code (an exception raised inside the standard library
        fails at the program's line that called it)."""
        frames = [frame for frame in uncaught["frames"] if scope.is_program(frame[0], self.tracer.rules)]
        file, line = frames[-1] if frames else (None, None)
        return {"type": uncaught["type"], "message": uncaught["message"], "file": file, "line": line}

    # -- the tracer's callback -------------------------------------------------------

    def _on_marker(self, kind: str, data: dict) -> None:
        if self.indexing:
            self.markers.append([self.tracer.position, kind, data])

    def _on_event(self, number: int, function: str) -> None:
        if self.indexing:
            self.event_positions.append(self.tracer.position)

    def _on_stop(self, reason: str, frame) -> None:
        self.frame = frame
        position = self.tracer.position
        if self.conditions and (reason == "breakpoint" or self.remember_conditional):
            hit = self._condition_holds(frame)
            if self.remember_conditional:
                if hit:
                    self.conditional_hit = position
                if reason == "breakpoint":
                    return  # remembered (or not); breakpoints do not stop while remembering
            elif reason == "breakpoint" and not hit:
                return
        if reason == "target" and self.snapshot_target is not None and position >= self.snapshot_target:
            self._offer_snapshot(position)
            target = self.request.get("target")
            if target is None or position < target:
                self._arm()
                return
        self.channel.send(self._stopped(reason, frame))
        self._serve(frame)

    def _condition_holds(self, frame) -> bool:
        """Does a breakpoint at this line hold? Conditions run in a throw-away fork: one
        that calls a function with side effects must not change the replay."""
        conditions = self.conditions.get((frame.f_code.co_filename, frame.f_lineno))
        if conditions is None:
            return False
        if None in conditions:
            return True
        pid = _fork()
        if pid == 0:
            try:
                _exit(0 if any(eval(condition, frame.f_globals, dict(frame.f_locals))
                               for condition in conditions) else 1)
            except BaseException:
                _exit(2)  # a condition that fails to evaluate holds, as in pdb: look at it
        _pid, status = _waitpid(pid, 0)
        return status != 1 << 8

    def _last_hit(self) -> int | None:
        hits = [hit for hit in (self.tracer.last_hit, self.conditional_hit) if hit is not None]
        return max(hits) if hits else None

    def _thread_number(self) -> int:
        return 0 if threading.get_ident() == self.main_thread else self.player._threads.get(threading.get_ident(), -1)

    def _stopped(self, reason: str, frame) -> dict:
        message = {"kind": "stopped", "reason": reason, "position": self.tracer.position,
                   "event": self.player.consumed, "thread": self._thread_number(),
                   "depth": self.tracer.depth(threading.get_ident()),
                   "last_hit": self._last_hit()}
        if frame is not None:
            message.update(file=frame.f_code.co_filename, line=frame.f_lineno, function=frame.f_code.co_name)
        return message

    # -- commands ----------------------------------------------------------------

    def _serve(self, frame) -> None:
        """Answer the controller until it says run (return) or quit (exit)."""
        while True:
            command = self.channel.recv()
            if command is None or command["op"] == "quit":
                _exit(0)
            op = command["op"]
            if op == "run":
                self._configure(command)
                return
            if op == "inspect":
                self._inspect(frame, command)
            else:
                self.channel.send({"kind": "error", "message": f"unknown command {op!r}"})

    def _configure(self, command: dict) -> None:
        self.request = command
        self.indexing = bool(command.get("index"))
        tracer = self.tracer
        breakpoints = command.get("breakpoints", [])
        tracer.set_breakpoints([(point[0], point[1]) for point in breakpoints])
        # With a condition anywhere, every breakpoint is decided here, in Python.
        conditional = any(len(point) > 2 and point[2] for point in breakpoints)
        self.conditions = {}
        if conditional:
            for point in breakpoints:
                self.conditions.setdefault((point[0], point[1]), []).append(point[2] if len(point) > 2 else None)
        self.conditional_hit = None
        step = command.get("step")
        tracer.set_step(*self._step_args(step)) if step else tracer.set_step(None, None)
        remember = command.get("remember")
        tracer.clear_remembered()
        self.remember_conditional = bool(remember and remember.get("breakpoints") and conditional)
        if remember:
            thread, depth = self._step_args(remember.get("step")) if remember.get("step") else (None, None)
            tracer.set_remember(bool(remember.get("breakpoints")) and not conditional, thread, depth)
        else:
            tracer.set_remember(False, None, None)
        tracer.set_stop_on_exception(bool(command.get("stop_on_exception")))
        self._clock = (_monotonic(), tracer.position)
        self._arm()

    def _step_args(self, step: list) -> tuple[int | None, int | None]:
        thread, depth = step
        ident = self.main_thread if thread == 0 else next(
            (i for i, n in self.player._threads.items() if n == thread), None)
        return ident, depth

    def _arm(self) -> None:
        """Set the tracer's target: the requested one, or the next snapshot if sooner."""
        target = self.request.get("target")
        self.snapshot_target = None
        if self.request.get("snapshots"):
            self.snapshot_target = self.policy.next_target(self.tracer.position, self._rate)
        targets = [t for t in (target, self.snapshot_target) if t is not None]
        self.tracer.set_target(min(targets) if targets else None)

    # -- forks ---------------------------------------------------------------------

    def _single_threaded(self) -> bool:
        return threading.active_count() == 1

    def _offer_snapshot(self, position: int) -> None:
        """Fork a paused copy of this process at ``position`` (only while single-threaded:
        fork copies one thread)."""
        started, at = self._clock
        now = _monotonic()
        if now > started and position > at:
            self._rate = (position - at) / (now - started)
        self._clock = (now, position)
        if not self._single_threaded():
            return
        pid = _fork()
        if pid == 0:
            self._become_paused_copy("snapshot", position)
        else:
            # In order with our later messages: the controller knows of the snapshot
            # before it hears of anything that happened after it.
            self.channel.send({"kind": "snapshot", "pid": pid, "position": position,
                               "event": self.player.consumed})

    def _become_paused_copy(self, role: str, position: int) -> None:
        """In a fresh fork: a new connection, a hello, then wait for orders."""
        self.channel.close()  # our copy of the parent's connection; the parent keeps its own
        self.channel = Channel.connect(self.socket_path)
        self.channel.send({"kind": "hello", "role": role, "pid": _getpid(), "position": position})
        self._serve_paused()

    def _serve_paused(self) -> None:
        """A snapshot: answers fork and quit; exits when the controller goes away.
        Returns only in a forked child, which then runs the program on as a worker."""
        while True:
            command = self.channel.recv()
            if command is None or command["op"] == "quit":
                _exit(0)
            if command["op"] == "fork":
                if self._fork_worker():
                    return
            else:
                self.channel.send({"kind": "error", "message": "a snapshot only forks"})

    def _fork_worker(self) -> bool:
        """Fork a child that becomes an active worker and waits for its run command.
        True in the child."""
        pid = _fork()
        if pid == 0:
            lifetime.die_with_parent()
            self.channel.close()
            self.channel = Channel.connect(self.socket_path)
            self.channel.send({"kind": "hello", "role": "worker", "pid": _getpid(),
                               "position": self.tracer.position})
            self._serve(self.frame)
            return True
        self.channel.send({"kind": "forked", "pid": pid})
        return False

    def _inspect(self, frame, command: dict) -> None:
        """Describe the stopped program from a throw-away fork."""
        pid = _fork()
        if pid == 0:
            try:
                reply = {"kind": "inspected", **self._describe(frame, command)}
            except BaseException as exc:
                reply = {"kind": "error", "message": f"{type(exc).__name__}: {inspection.safe_text(exc)}"}
            self.channel.send(reply)
            _exit(0)
        _waitpid(pid, 0)

    def _describe(self, frame, command: dict) -> dict:
        frames = inspection.program_frames(frame, self.tracer.rules)
        what = command.get("what", "state")
        if what == "state":
            return {"frames": [inspection.describe_frame(f, with_locals=(index == command.get("frame", 0)))
                               for index, f in enumerate(frames)]}
        target = frames[command.get("frame", 0)]
        if what == "expand":
            return {"children": inspection.expand(target, command["path"])}
        if what == "repr":
            return {"repr": inspection.full_repr(target, command["path"])}
        if what == "evaluate":
            value = eval(command["expression"], target.f_globals, dict(target.f_locals))
            return {"value": {**inspection.describe_value(command["expression"], value),
                              "repr": inspection.safe_repr(value, inspection.FULL_LIMIT)}}
        raise ValueError(f"unknown inspection {what!r}")


def start_engine(worker, socket_path: str, tracer_kind: str) -> Engine:
    """In the first worker, before the program: die with the controller, connect, trace."""
    from retrace_core.trace import tracer_factory

    lifetime.die_with_parent()
    engine = Engine(worker, socket_path, tracer_factory(tracer_kind))
    engine.start()
    return engine
