"""The controller's processes: the replay worker it starts, the snapshots forked from it
and the active workers forked from those; who is connected, who is kept, who is ended.

Every process connects to the listening socket when born and says :class:`Hello`. The
controller ends a process with :class:`Quit` and SIGKILL, and sees that it is reaped
before the move that ended it returns: the first worker is our child; a snapshot is
its worker's child, which is asked to reap it (:class:`Reap`) at the end of the move;
an active worker is its snapshot's child, and a snapshot ignores SIGCHLD, so the kernel
reaps those. A worker that dies leaves its snapshots to init.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
from dataclasses import dataclass

from retrace_core.control.messages import Error, Fork, Hello, Message, Quit, Reap, Reaped, SnapshotTaken
from retrace_core.control.protocol import Channel, listen
from retrace_core.control.snapshot_memory import MemoryBudget
from retrace_core.control.snapshots import SnapshotPolicy
from retrace_core.replay.stuck import StuckWatch

REPLY_TIMEOUT = 600.0  # seconds a worker may run without answering before we give up


class EngineError(Exception):
    """The engine could not do what was asked (a worker died, the replay diverged)."""


class WorkerDied(EngineError):
    """The active worker went away in the middle of a move (a crash, a kill)."""


class SnapshotLost(EngineError):
    """The snapshot asked to fork a worker went away before the worker said hello (it
    was killed, or its fork failed): it is forgotten, and the move takes another."""


class WorkerStuck(EngineError):
    """The active worker used no CPU for a long time: blocked in a wait nothing will end
    (replay/stuck.py). It is killed; the next move starts from a snapshot."""


@dataclass
class Process:
    """One of the controller's processes, worker or snapshot, with the channel to it."""

    pid: int
    role: str  # "worker" or "snapshot"
    position: int
    channel: Channel
    parent: int | None = None  # a snapshot: the pid of the worker that forked it (its parent)


def _parent_of(pid: int) -> int | None:
    """The parent of a live process, as the kernel tells it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return int(handle.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


class Workers:
    """The processes of one session. ``worker`` is the active worker (None between a
    death and the next fork), ``snapshots`` the paused snapshots by position."""

    def __init__(self, socket_path: str, policy: SnapshotPolicy, log: str) -> None:
        self.socket_path = socket_path
        self.policy = policy
        self.memory = MemoryBudget()
        self._log = log
        self._server = listen(socket_path)
        self.snapshots: dict[int, Process] = {}
        self.worker: Process | None = None
        self.worker_parent: int | None = None  # the snapshot the active worker was forked from
        self.pinned: set[int] = set()  # positions of snapshots never dropped (a first look's start)
        self.on_snapshot = None  # (events consumed) -> None, as the active worker takes snapshots
        self._first: subprocess.Popen | None = None
        self._others: list[Process] = []  # workers that said hello and are not yet active
        self._seen: set[int] = set()  # pids that have said hello
        self._offered: dict[int, int] = {}  # snapshot pid -> pid of the worker that forked it
        self._unreaped: list[int] = []  # snapshots of the active worker killed in this move
        self._forking_from: Process | None = None  # the snapshot whose fork's hello we wait for

    def start(self, command: list[str], environment: dict, cwd: str) -> None:
        """Start the first worker and wait for its hello."""
        with open(self._log, "wb") as log:
            self._first = subprocess.Popen(command, env=environment, cwd=cwd, stdin=subprocess.DEVNULL,
                                           stdout=subprocess.DEVNULL, stderr=log)
        self.worker = self._await_hello("worker")

    # -- talking to the active worker -------------------------------------------------

    def request(self, message: Message, expect: tuple[type[Message], ...]) -> Message:
        """Send to the active worker and return its answer, accepting new snapshots
        meanwhile. Snapshots of the worker's that were dropped meanwhile are reaped
        before returning."""
        reply = self._exchange(message, expect)
        # Until none is left: a snapshot whose hello comes in while the worker reaps (it
        # connected late) may be thinned then, and would stay a zombie until the next move.
        while self._unreaped and self.worker is not None:
            pids, self._unreaped = self._unreaped, []
            self._exchange(Reap(pids), (Reaped,))
        return reply

    def _exchange(self, message: Message, expect: tuple[type[Message], ...]) -> Message:
        worker = self.worker
        if worker is None:
            raise WorkerDied("the replay worker was stopped")  # after WorkerStuck: the next move replaces it
        watch = StuckWatch(worker.pid)
        try:
            worker.channel.send(message)
        except OSError:
            self.worker = None
            raise WorkerDied("the replay worker died") from None
        while True:
            try:
                readable = self._wait_readable([self._server, worker.channel.sock], REPLY_TIMEOUT, watch)
            except WorkerStuck:
                self.kill_worker()
                self.worker = None
                raise
            if self._server in readable:
                self._accept()
            if worker.channel.sock in readable:
                reply = worker.channel.recv()
                if reply is None:
                    self.worker = None
                    raise WorkerDied("the replay worker died")
                if isinstance(reply, Error):
                    raise EngineError(reply.message)
                if isinstance(reply, SnapshotTaken):
                    self._offered[reply.pid] = worker.pid
                    self._await_snapshot(reply.pid)
                    if self.on_snapshot is not None:
                        self.on_snapshot(reply.event)
                elif isinstance(reply, expect):
                    return reply

    def fork_from(self, snapshot: Process) -> None:
        """Replace the active worker by a fork of ``snapshot``; SnapshotLost when the
        snapshot is gone before its fork says hello (it is forgotten then)."""
        try:
            snapshot.channel.send(Fork())
        except OSError:
            self._forget(snapshot)
            raise SnapshotLost(f"the snapshot at position {snapshot.position} is gone") from None
        if self.worker is not None:
            self.quit(self.worker)
        self.worker = None
        self._unreaped = []  # the old worker's: orphans now, which init reaps
        # The fork dies with its snapshot: meanwhile a late hello (a snapshot the old worker
        # took) must neither thin nor replace it.
        self._forking_from = snapshot
        try:
            self.worker = self._await_hello("worker", snapshot)
        except SnapshotLost:
            self._forget(snapshot)
            raise
        finally:
            self._forking_from = None
        self.worker_parent = snapshot.position  # it dies with that snapshot: see _thin

    def _forget(self, snapshot: Process) -> None:
        if self.snapshots.get(snapshot.position) is snapshot:
            del self.snapshots[snapshot.position]
        self.quit(snapshot)

    def _kept(self, snapshot: Process) -> bool:
        """A snapshot a worker depends on (or will): never thinned nor replaced."""
        return (snapshot is self._forking_from or snapshot.position in self.pinned
                or (self.worker is not None and snapshot.position == self.worker_parent))

    def kill_worker(self) -> None:
        """From another thread: end the active worker's move now (its requester sees WorkerDied)."""
        worker = self.worker
        if worker is not None:
            try:
                os.kill(worker.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    # -- hellos -----------------------------------------------------------------------

    def _accept(self) -> None:
        connection, _ = self._server.accept()
        channel = Channel(connection)
        hello = channel.recv()
        if not isinstance(hello, Hello):
            channel.close()
            return
        # A snapshot's hello may come before the worker's word that it forked it (two sockets)
        parent = self._offered.pop(hello.pid, None) or (_parent_of(hello.pid) if hello.role == "snapshot" else None)
        process = Process(hello.pid, hello.role, hello.position, channel, parent)
        self._seen.add(process.pid)
        if process.role == "snapshot":
            old = self.snapshots.get(process.position)
            if old is not None and self._kept(old):
                self.quit(process)  # the one there stays: a worker is (being) forked from it
                return
            if old is not None:
                self.quit(old)
            self.snapshots[process.position] = process
            # The worker that offered it is there now: that is the present to keep dense.
            self._thin(present=process.position)
        else:
            self._others.append(process)

    def _await_snapshot(self, pid: int) -> None:
        """Wait until the snapshot ``pid`` has connected (it may have been thinned since)."""
        while not any(p.pid == pid for p in self.snapshots.values()) and pid not in self._seen:
            self._wait_readable([self._server], REPLY_TIMEOUT)
            self._accept()

    def _await_hello(self, role: str, parent: Process | None = None) -> Process:
        """The next process of ``role`` to say hello; one forked by ``parent``, a snapshot
        that sends nothing meanwhile: its connection ending means it is gone."""
        sources = [self._server] if parent is None else [self._server, parent.channel.sock]
        while True:
            readable = self._wait_readable(sources, REPLY_TIMEOUT)
            if parent is not None and parent.channel.sock in readable and parent.channel.recv() is None:
                raise SnapshotLost(f"the snapshot at position {parent.position} went away before its fork said hello")
            if self._server not in readable:
                continue
            self._accept()
            for process in self._others:
                if process.role == role:
                    self._others.remove(process)
                    return process

    def _wait_readable(self, sources: list, timeout: float, watch: StuckWatch | None = None) -> list:
        """Wait for input; fail at once if the first worker died before saying hello, and
        when ``watch`` says the worker is stuck."""
        waited, rounds = 0.0, 0
        while waited < timeout:
            readable, _, _ = select.select(sources, [], [], 0.2)
            if readable:
                return readable
            waited, rounds = waited + 0.2, rounds + 1
            if watch is not None and rounds % 5 == 0 and watch.stuck():  # asked once a second
                raise WorkerStuck(watch.message())
            if not self._seen and self._first.poll() is not None:
                raise EngineError(f"the replay worker stopped at start (exit status {self._first.returncode})"
                                  f"{self._last_log_line()}")
        raise EngineError(f"no answer from the replay worker in {timeout:.0f} s")

    def _last_log_line(self) -> str:
        try:
            with open(self._log, "rb") as handle:
                lines = handle.read().decode(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f": {lines[-1]}" if lines else ""

    # -- ending -------------------------------------------------------------------------

    def quit(self, process: Process) -> None:
        """End a process and see that it is reaped (see the module's docstring)."""
        try:
            process.channel.send(Quit())
        except OSError:
            pass
        process.channel.close()
        try:
            os.kill(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._first is not None and process.pid == self._first.pid:
            self._first.wait()
        elif process.parent is not None and self.worker is not None and process.parent == self.worker.pid:
            self._unreaped.append(process.pid)

    def _thin(self, present: int) -> None:
        """Drop snapshots by policy and to fit the memory budget, never the active worker's
        parent: a worker dies with its parent (PR_SET_PDEATHSIG), so that snapshot lives
        as long as the worker."""
        candidates = [p for p, snapshot in self.snapshots.items() if not self._kept(snapshot)]
        for position in self.policy.to_drop(candidates, present):
            self.quit(self.snapshots.pop(position))
        excess = self.memory.excess_snapshots([process.pid for process in self.snapshots.values()])
        if excess:
            candidates = [p for p, snapshot in self.snapshots.items() if not self._kept(snapshot)]
            for position in self.policy.to_drop(candidates, present, limit=len(candidates) - excess):
                self.quit(self.snapshots.pop(position))

    def close(self) -> None:
        for process in [*self.snapshots.values(), *self._others, *([self.worker] if self.worker else [])]:
            self.quit(process)
        self.snapshots.clear()
        self._others.clear()
        self.worker = None
        if self._first is not None:
            if self._first.poll() is None:
                self._first.kill()
            self._first.wait()
        self._server.close()
