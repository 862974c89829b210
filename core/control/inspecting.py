"""The engine's answers about a stopped program, and breakpoint conditions with side
effects, each from a throw-away fork of the stopped worker: a ``__repr__`` that reads
the clock, writes a file or mutates its object cannot change the replay. A mixin of
:class:`~retrace_core.control.engine.Engine`."""
from __future__ import annotations

import posix
import threading

from retrace_core.boundary import threads
from retrace_core.boundary.thread_idents import real, real_current_frames, real_get_ident
from retrace_core.control import forking, inspection
from retrace_core.control.messages import Error, Inspect, Inspected
from retrace_core.trace import scope

_exit, _waitpid = posix._exit, posix.waitpid


class Inspecting:
    """Engine methods: forks that run user code and exit (conditions, reprs), and the
    descriptions they send."""

    def _condition_holds(self, frame) -> bool:
        """Does a breakpoint at this line hold? A condition free of side effects is
        evaluated here; any other in a throw-away fork, so that a function with side
        effects cannot change the replay."""
        conditions = self.conditions.get((frame.f_code.co_filename, frame.f_lineno))
        if conditions is None:
            return False
        if None in conditions:
            return True
        forked = []
        for condition in conditions:
            if not condition.pure_here(frame):
                forked.append(condition)
            elif condition.holds(frame):
                return True
        if not forked:
            return False
        pid = self._throwaway_fork()
        if pid == 0:
            _exit(0 if any(condition.holds(frame) for condition in forked) else 1)
        _pid, status = _waitpid(pid, 0)
        return status != 1 << 8

    def _throwaway_fork(self) -> int:
        """Fork a child that runs user code (a condition, a repr) and exits: 0 in the child.
        The child shows the threads as they are here: the fork ends every other thread's
        state and threading's at-fork handler marks them stopped and forgets them."""
        active, limbo, main = dict(threading._active), dict(threading._limbo), threading._main_thread
        states = [(thread, dict(thread.__dict__)) for thread in [*active.values(), *limbo.values()]]
        held = [lock for _thread_, state in states if (lock := state.get("_tstate_lock")) is not None
                and lock.locked()]
        logical = self.player.thread_map()  # the fork frees the other threads' locals, which forget them
        pid = forking.fork_unnoticed()
        if pid == 0:
            threads.detach_for_inspection(self.player)
            self.player.restore_thread_map(logical)
            threading._active.update(active)
            threading._limbo.update(limbo)
            threading._main_thread = main
            for thread, state in states:
                thread.__dict__.update(state)
            for lock in held:  # the fork released the vanished threads' locks: is_alive reads them
                lock.acquire(False)
        return pid

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

    def _inspect(self, frame, command: Inspect) -> None:
        """Describe the stopped program from a throw-away fork; "failure": where the frames
        of a failure the tape's markers name (``path``) are program code, by this
        process's rules (first_look.py asks before the index exists), answered here."""
        if command.what == "failure":
            found = self._failure({"type": None, "message": None, "frames": command.path})
            self.channel.send(Inspected(value={"file": found["file"], "line": found["line"]}))
            return
        # Taken here: the fork keeps only this thread, but the others' frames stay in memory.
        stacks = real_current_frames()
        names = {real(ident): thread.name for ident, thread in threading._active.items()}
        pid = self._throwaway_fork()
        if pid == 0:
            try:
                threads = self._threads(frame, stacks, names)
                if command.thread not in (None, self._thread_number()):
                    chosen = next((t for t in threads if t["thread"] == command.thread), None)
                    if chosen is None:
                        raise ValueError(f"no thread {command.thread} at this point")
                    if chosen["ident"] not in stacks:
                        raise ValueError(f"thread {command.thread} has not begun to run at this point")
                    frame = stacks[chosen.pop("ident")]
                reply = self._describe(frame, command)
                if command.what == "state":
                    reply.threads = [{k: v for k, v in t.items() if k != "ident"} for t in threads]
            except BaseException as exc:
                reply = Error(f"{type(exc).__name__}: {inspection.safe_text(exc)}")
            self.channel.send(reply)
            _exit(0)
        _waitpid(pid, 0)

    def _threads(self, frame, stacks: dict, names: dict) -> list[dict]:
        """The program's threads at this stop, main first: each with where it stands. The
        list follows the events (started and not yet ended), so it is the same at a
        position however the replay got there, whether or not a new thread's OS thread
        has begun to run yet, or an ended one has finished exiting."""
        current = real_get_ident()
        idents = {logical: ident for ident, logical in self.player.thread_map().items()}
        idents[0] = self.main_thread
        threads = []
        for logical in [0, *sorted(self.player.live)]:
            ident = idents.get(logical)
            top = stacks.get(ident) if ident is not None else None
            frames = inspection.program_frames(frame if ident == current else top, self.tracer.rules) \
                if top is not None or ident == current else []
            where = inspection.describe_frame(frames[0], with_locals=False) if frames else {}
            thread = self.player.live.get(logical)
            name = getattr(thread, "name", None) or names.get(ident, "")
            threads.append({"thread": logical, "ident": ident, "name": name, "current": ident == current, **where})
        return threads

    def _describe(self, frame, command: Inspect) -> Inspected:
        frames = inspection.program_frames(frame, self.tracer.rules)
        what = command.what
        if what == "state":
            return Inspected(frames=[inspection.describe_frame(f, with_locals=(index == command.frame))
                                     for index, f in enumerate(frames)])
        target = frames[command.frame]
        if what == "expand":
            return Inspected(children=inspection.expand(target, list(command.path)))
        if what == "repr":
            return Inspected(repr=inspection.full_repr(target, list(command.path)))
        if what == "evaluate":
            value = eval(command.expression, target.f_globals, dict(target.f_locals))
            return Inspected(value={**inspection.describe_value(command.expression, value),
                                    "repr": inspection.safe_repr(value, inspection.FULL_LIMIT)})
        raise ValueError(f"unknown inspection {what!r}")
