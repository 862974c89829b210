"""The engine's forks: a snapshot is a paused copy of the active worker, and a snapshot
forks the next active worker when the controller asks it to (see engine.py's roles).

A mixin of :class:`~retrace_core.control.engine.Engine`, which owns the state it uses:
``channel``, ``socket_path``, ``player``, ``tracer``, ``frame``, ``indexing``,
``threaded``, ``depth_floors``, ``stretch_breaks``, ``_line_map``, ``_clock``, ``_rate`` and ``_snapshot_pids``.
"""
from __future__ import annotations

import _signal
import _thread
import posix
import threading
import time

from retrace_core.boundary.guard import bypass
from retrace_core.boundary.thread_idents import real_get_ident
from retrace_core.control import forking, lifetime
from retrace_core.control.messages import Error, Fork, Hello, Quit, SnapshotTaken
from retrace_core.control.protocol import Channel

# posix's functions, never os's: in a replay worker, _getpid() and friends answer from
# the tape, and time.monotonic() too (these are taken before patching).
_monotonic = time.monotonic
_exit, _getpid, _waitpid = posix._exit, posix.getpid, posix.waitpid
_WNOHANG = posix.WNOHANG
_fork = forking.fork_unnoticed


class SnapshotForks:
    """Taking snapshots while the program runs, and being one."""

    def _single_threaded(self) -> bool:
        # The player's count first: a thread exists from its start event on, before its OS
        # thread runs. Then _thread's count, not only threading's: execnet (pytest-xdist)
        # starts its threads with _thread.start_new_thread, which threading does not see.
        if self.player.live or _thread._count():
            return False
        with bypass():  # our own question, not the program's: no event
            return threading.active_count() == 1

    def _offer_snapshot(self, position: int) -> None:
        """Fork a paused copy of this process at ``position`` (only while single-threaded:
        fork copies one thread)."""
        started, at = self._clock
        now = _monotonic()
        if now > started and position > at:
            self._rate = (position - at) / (now - started)
        self._clock = (now, position)
        self._note_depth_floor(position)
        if self.indexing and self._line_map and position > 0:
            self.stretch_breaks.append([self.tracer.note_break(), position])
        if not self._single_threaded():
            # No snapshot here; the controller says so when that makes a move slow.
            if self.indexing and not (self.threaded and self.threaded[-1][1] is None):
                self.threaded.append([position, None])
            return
        if self.indexing and self.threaded and self.threaded[-1][1] is None:
            self.threaded[-1][1] = position
        self._reap_snapshots()
        try:
            pid = _fork()
        except OSError:  # EAGAIN, ENOMEM: no snapshot here, as where threads ran
            return
        if pid == 0:
            self._snapshot_pids = []  # the parent's children, not ours
            self._become_snapshot(position)
        else:
            self._snapshot_pids.append(pid)
            # In order with our later messages: the controller knows of the snapshot
            # before it hears of anything that happened after it.
            self.channel.send(SnapshotTaken(pid, position, self.player.consumed))

    def _note_depth_floor(self, position: int) -> None:
        if self.indexing and hasattr(self.tracer, "take_shallowest"):
            self.depth_floors.append([position, self.tracer.take_shallowest(real_get_ident())])

    def _reap_snapshots(self, wait_for: tuple = ()) -> None:
        """Reap the snapshots we forked that have exited (the controller drops them while
        we run); wait for those in ``wait_for``, which it has just killed."""
        for pid in list(self._snapshot_pids):
            try:
                done, _status = _waitpid(pid, 0 if pid in wait_for else _WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self._snapshot_pids.remove(pid)

    def _become_snapshot(self, position: int) -> None:
        """In a fresh fork: a new connection, a hello, then wait for orders."""
        self.channel.close()  # our copy of the parent's connection; the parent keeps its own
        try:
            self.channel = Channel.connect(self.socket_path)
            self.channel.send(Hello("snapshot", _getpid(), position))
        except OSError:  # the controller has gone (or is going): nobody can use this snapshot
            _exit(0)
        self._serve_paused()

    def _serve_paused(self) -> None:
        """A snapshot: answers fork and quit; exits when the controller goes away.
        Returns only in a forked child, which then runs the program on as a worker.
        Its children are active workers the controller kills when done with them: the
        kernel reaps them (SIGCHLD ignored), so none is left a zombie."""
        handler = _signal.getsignal(_signal.SIGCHLD)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_IGN)
        while True:
            command = self.channel.recv()
            if command is None or type(command) is Quit:
                _exit(0)
            if type(command) is Fork:
                if self._fork_worker(handler):
                    return
            else:
                self.channel.send(Error("a snapshot only forks"))

    def _fork_worker(self, sigchld_handler) -> bool:
        """Fork a child that becomes an active worker and waits for its run command.
        True in the child. (The snapshot sends no reply: the worker says hello.)"""
        pid = _fork()
        if pid == 0:
            _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL if sigchld_handler is None else sigchld_handler)
            lifetime.die_with_parent()
            self.channel.close()
            try:
                self.channel = Channel.connect(self.socket_path)
                self.channel.send(Hello("worker", _getpid(), self.tracer.position))
            except OSError:
                _exit(0)
            self._serve(self.frame)
            return True
        return False
