"""EngineReplay: how a replay under the time-travel engine starts and ends.

launch.py runs the program the same way recorded and replayed (one ``main()``, so the
frames under the program's are the same); what differs under the engine is here: the
engine starts before the program, is told of the program's uncaught exception (the
failure a user jumps to), and after the program does what the interpreter does at exit,
checks the rest of the tape, and reports to the controller instead of exiting.
"""
from __future__ import annotations

import sys

from retrace_core.boundary.guard import guard


class EngineReplay:
    """One engine replay in this worker process: ``end`` and ``program_raised`` are the
    hooks launch.main() calls."""

    def __init__(self, worker, socket_path: str, tracer_kind: str) -> None:
        import atexit

        from retrace_core.replay.divergence import Divergence

        self.worker, self.divergence_type = worker, Divergence
        self.uncaught: dict | None = None  # the program's uncaught exception: type, message, frames
        before = set(sys.modules)
        from retrace_core.boundary.guard import bypass

        # Our start, not the program's: what it imports that the recorded process never did
        # (unseen.py, the reference tracer) may write a compiled copy into a bytecode cache
        # (PYTHONPYCACHEPREFIX) through io.FileIO, a boundary call the tape has not.
        with bypass():
            from retrace_core.control.engine import start_engine
            from retrace_core.trace.unseen import hide_engine_tracer

            engine = self.engine = start_engine(worker, socket_path, tracer_kind)
            hide_engine_tracer(engine.tracer)
        # Following a forked child: its index begins with its own tape (the parent's events
        # and markers before the fork are the parent's).
        worker.player.switch_listeners.append(engine.tape_switched)
        # The engine's modules are not the recorded process's: a program that walks
        # sys.modules (inspect.getmodule does, in pytest's traceback formatting) would stat
        # their files, calls the tape never saw. They stay loaded, but out of sight.
        for name in set(sys.modules) - before:
            del sys.modules[name]
        atexit.unregister(worker._finish_at_exit)  # the engine finishes the replay itself, in end()
        worker.on_exit = self._exited

    def program_raised(self, exc: BaseException) -> None:
        """The program ended with an uncaught exception (before its traceback is printed)."""
        self.uncaught = raised_at(exc)

    def _exited(self, status: int) -> None:
        """os._exit(): the end, without exit handlers or flushing."""
        worker, engine = self.worker, self.engine
        engine.tracer.stop()
        divergence = worker.player.divergence
        if divergence is None:
            try:
                worker.player.finish(status)
            except self.divergence_type as caught:
                divergence = caught
        guard.busy = True  # the program is over (see launch.main)
        engine.finished(status, divergence.report if divergence is not None else None, None)

    def end(self, status: int | None, divergence) -> None:
        """After the program: what the interpreter does at exit, then the engine's report."""
        import atexit

        worker, engine, Divergence = self.worker, self.engine, self.divergence_type
        if divergence is None:
            divergence = worker.player.divergence
        if divergence is None:
            # What the interpreter does at exit, in its order: wait for the program's threads,
            # run its exit handlers (pytest removes its temporary folders there), then flush
            # the standard streams.
            try:
                sys.modules["threading"]._shutdown()
            except Divergence as caught:
                divergence = caught
            except Exception:
                pass
        if divergence is None:
            atexit._run_exitfuncs()
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Divergence:
                    pass  # the player keeps it
                except Exception:
                    pass
            divergence = worker.player.divergence
        if divergence is not None:
            guard.busy = True  # the program is over (see launch.main)
        engine.tracer.stop()  # what follows is ours: the program's last position is behind us
        if divergence is None:
            try:
                worker.player.finish(status)
            except Divergence as caught:
                divergence = caught
        engine.finished(status, divergence.report if divergence is not None else None, self.uncaught)


def raised_at(exc: BaseException) -> dict:
    """What the engine needs to find the failure: the frames the exception went through
    (outermost first) and its text."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append([tb.tb_frame.f_code.co_filename, tb.tb_lineno])
        tb = tb.tb_next
    try:
        message = str(exc)
    except BaseException:
        message = "<the exception's str() failed>"
    return {"type": type(exc).__name__, "message": message, "frames": frames}
