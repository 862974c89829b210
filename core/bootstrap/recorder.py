"""Recorder: one recorded process from its first boundary call to its packed archive.

``start()`` writes the process header, applies the boundary table and starts the
flusher; ``finish(status)`` runs once, at exit (or from ``os._exit``), and writes the
exit record. The root process then waits a moment for recorded children still
running, writes ``index.json`` and packs the tape directory into the ``.retrace`` file.

``os.fork()`` is one event: in the parent its result is the child's pid; the child
goes on in a tape of its own whose first event is the same call returning 0 (see
:meth:`Recorder.fork`).

A fault inside the recorder never reaches the program: recording stops with one
warning on stderr, the recording is marked incomplete, and the program goes on.
"""
from __future__ import annotations

import atexit
import os
import posix
import sys
import time

from retrace_core import __version__
from retrace_core.bootstrap import children, module_files, stable_hashes, termination
from retrace_core.bootstrap.preload import loaded_modules
from retrace_core.boundary import collector, foreign_calls, gc_guard, thread_idents, written_code
from retrace_core.boundary.environment import stored_environment
from retrace_core.boundary.guard import bypass, guard
from retrace_core.boundary.output import stream_settings
from retrace_core.boundary.patcher import Patcher
from retrace_core.ours import PARENT_PID, WRITTEN_FOLDERS
from retrace_core.pytest import markers
from retrace_core.tape import format
from retrace_core.tape.writer import TapeWriter

_real_exit = os._exit
_real_time = time.time
_real_sleep = time.sleep
_stderr_fd = 2
CHILDREN_WAIT = 3.0  # seconds the root waits at exit for recorded children still running

active: Recorder | None = None  # the recorder of this process, once started


def warn(message: str) -> None:
    """One line on the real stderr, never recorded."""
    try:
        os.write(_stderr_fd, f"retrace: {message}\n".encode(errors="replace"))
    except OSError:
        pass


class Recorder:
    """One recorded process, from its header to its packed archive: starts the tape and
    patches the boundary before the program, follows it into a forked child, and writes
    the exit record and packs the recording when it ends."""

    def __init__(self, recording: str, root: bool, program: list[str], interpreter_options: list[str],
                 started: str | None = None, root_pid: int | None = None) -> None:
        self.recording = recording
        self.tape_dir = format.tape_dir_for(recording)
        self.root = root
        self.program = program
        self.interpreter_options = interpreter_options
        self.stable_hashes = stable_hashes.wanted()  # the program's default hashes: see stable_hashes.py
        self.started = "root" if root else started or "exec"  # see children.py for the kinds
        self.pid = os.getpid()
        self.root_pid = root_pid or self.pid
        self.exit_status: int | None = None
        self.fault: str | None = None
        self.tape: TapeWriter | None = None
        self._header: dict = {}
        self._finished = False
        self._forking: str | None = None  # how the child of the fork in progress was started
        self._failed_tests: list[str] = []  # pytest tests that failed in this process

    # -- start ----------------------------------------------------------------------

    def header(self, parent: str | None) -> dict:
        environment, redacted = stored_environment()
        return {
            "pid": self.pid,
            "ppid": os.getppid(),
            "parent": None if self.root else _int_or_none(parent),
            "started": self.started,
            "argv": program_argv(self.program),
            "program": list(self.program),
            "interpreter_options": list(self.interpreter_options),
            "executable": sys.executable,
            "cwd": os.getcwd(),
            "env": environment,
            "redacted": redacted,
            "hash_seed": os.environ.get("PYTHONHASHSEED"),
            "python": ".".join(map(str, sys.version_info[:3])),
            "python_minor": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "implementation": sys.implementation.name,
            "platform": sys.platform,
            "machine": os.uname().machine,
            "start": _real_time(),
            "stdio": {"0": stream_settings(sys.stdin), "1": stream_settings(sys.stdout),
                      "2": stream_settings(sys.stderr)},
            "preloaded": loaded_modules(),
            "recorder_version": __version__,
            "format_version": format.FORMAT_VERSION,
            collector.HEADER_KEY: collector.SCHEDULED,
            "written_folders": sorted(written_code.written_folders),  # the replay starts with them too
            "written_finders": written_code.finders_at_start(),  # and with importlib's finders of them
            stable_hashes.HEADER_KEY: self.stable_hashes,
            stable_hashes.PER_THREAD_KEY: True,
            foreign_calls.HEADER_KEY: True,
            module_files.HEADER_KEY: True,
            thread_idents.HEADER_KEY: thread_idents.own_idents(),  # the main thread's numbers
        }

    def start(self) -> bool:
        """Start recording; False (nothing started) for a child whose recording was
        already packed: its root ended first."""
        global active
        if self.root:
            os.makedirs(self.tape_dir, mode=0o700, exist_ok=True)  # what the program read: owner-only
        elif not os.path.isdir(self.tape_dir):
            return False
        self.tape = TapeWriter(os.path.join(self.tape_dir, f"{self.pid}{format.TAPE_SUFFIX}"),
                               on_fault=self._on_fault)
        # For recorded children; set before the environment is stored, as the program
        # sees it from its first line on.
        parent = os.environ.get(PARENT_PID)
        os.environ[PARENT_PID] = str(self.pid)
        inherited = os.environ.pop(WRITTEN_FOLDERS, "")  # from a recorded parent: children.py
        written_code.written_folders.update(folder for folder in inherited.split(os.pathsep) if folder)
        header = self._header = self.header(parent)
        self.tape.control([format.PROCESS, header])
        self.tape.flush()  # a process killed at once still leaves a readable tape
        # No index.json yet: readers build one from the tapes of an unfinished recording.
        # Registered first, so it runs after every handler the program registers.
        atexit.register(self._finish_at_exit)
        os._exit = self._exit
        os.register_at_fork(before=self._before_fork, after_in_parent=self._after_fork_in_parent,
                            after_in_child=self._after_fork_in_child)
        Patcher(self.tape).install()
        gc_guard.install()
        collector.RecordedCollections(self.tape).install()
        markers.install(self._marker)
        children.current = children.Parent(self.recording, self.root_pid, self.pid)
        active = self
        termination.install(self.tape)
        self.tape.start_flusher()
        return True

    def _marker(self, kind: str, data: dict) -> None:
        if kind == "test-failed":
            self._failed_tests.append(data.get("nodeid"))
        self.tape.control([format.MARKER, kind, data])

    # -- faults ---------------------------------------------------------------------

    def _on_fault(self, message: str) -> None:
        if self.fault is None:
            self.fault = message
            warn(f"recording stopped by an internal error ({message}); the program goes on, "
                 f"and {self.recording} will be marked incomplete")

    # -- fork -----------------------------------------------------------------------

    def _before_fork(self) -> None:
        if self.tape is not None and not self._finished:
            self.tape.stop_flusher()
            self.tape.flush()

    def _after_fork_in_parent(self) -> None:
        if self.tape is not None and not self._finished:
            self.tape.start_flusher()

    def fork(self, original, headers) -> int:
        """``os.fork()``, recorded: the child's pid on this tape; 0, the first event of
        the child's own tape. The at-fork handlers run unrecorded: a replay of the parent
        does not fork (and the replay of a child runs them unrecorded too)."""
        self._forking = children.how_forked(sys._getframe(2))  # 0: here, 1: the wrapper
        previous = guard.busy
        guard.busy = True
        try:
            pid = original()
        except BaseException as exc:
            guard.busy = previous
            self._forking = None
            self.tape.raised(headers.raised, None, exc)
            raise
        guard.busy = previous
        self._forking = None
        if pid == 0:
            if not self._finished:
                try:
                    self.tape.returned(headers.returned, 0)
                    self.tape.flush()  # killed at once (a pool's worker), it still leaves a readable tape
                    self.tape.start_flusher()
                    children.reseed_random()
                except Exception as exc:  # our bug: recording stops, the child goes on
                    self.tape.fault(exc)
            return 0
        if children.current is not None:
            children.current.children.append(pid)
        self.tape.returned(headers.returned, pid)
        return pid

    def _after_fork_in_child(self) -> None:
        how, self._forking = self._forking, None
        if self.tape is None:
            return
        if how is not None and not self._finished and self.tape.active and os.path.isdir(self.tape_dir):
            try:
                self._become_forked_child(how)
                return
            except Exception as exc:
                warn(f"not recording the forked process {posix.getpid()} ({type(exc).__name__}: {exc})")
        # Not recorded (forked by other means, or the recording is over): it must not
        # write the parent's tape.
        self.tape.abandon_after_fork()
        self._finished = True

    def _become_forked_child(self, how: str) -> None:
        parent = self.pid
        self.pid = posix.getpid()
        self.root = False
        self.started = how
        self.exit_status = None
        self._failed_tests = []
        header = self._header = {**self._header, "pid": self.pid, "ppid": parent, "parent": parent,
                                 "started": how, "start": _real_time()}
        self.tape.continue_in_forked_child(os.path.join(self.tape_dir, f"{self.pid}{format.TAPE_SUFFIX}"), header)
        children.current = children.Parent(self.recording, self.root_pid, self.pid)
        os.environ[PARENT_PID] = str(self.pid)  # for its own recorded children

    # -- finish ---------------------------------------------------------------------

    def _exit(self, status: int) -> None:
        self.finish(status)
        _real_exit(status)

    def _finish_at_exit(self) -> None:
        self.finish(self.exit_status)

    def finish(self, exit_status: int | None) -> None:
        if self._finished:
            return
        self._finished = True
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()  # recorded: the last output belongs on the tape
            except Exception:
                pass
        with bypass():
            try:
                self._close(exit_status)
            except Exception as exc:  # never let the recorder break the program's exit
                if self.fault is None:  # one warning per recording
                    warn(f"could not finish the recording {self.recording}: {type(exc).__name__}: {exc}")

    def _close(self, exit_status: int | None) -> None:
        from retrace_core.bootstrap.sources import store_sources

        end = _real_time()
        if not self.root and not os.path.isdir(self.tape_dir):
            self.tape.close()  # the root has packed the recording already: too late to join it
            return
        store_sources(self.tape_dir, self.pid)
        # Last: a tape with its exit record is a process done writing (the root waits for that).
        self.tape.control([format.EXIT, {"exit_status": exit_status, "end": end, "fault": self.fault,
                                         "failed_tests": self._failed_tests}])
        self.tape.close()
        if self.root:
            running = self._await_children()
            self._write_index(self._header, complete=self.fault is None, exit_status=exit_status, end=end)
            from retrace_core.tape.archive import pack

            pack(self.tape_dir, self.recording, still_written=running)

    def _await_children(self) -> set[str]:
        """Give recorded processes still running a moment to finish their tapes; returns
        the tapes of those that did not (packed as far as they are written)."""
        from retrace_core.tape.process_tree import tape_pids

        deadline = _real_time() + CHILDREN_WAIT
        while True:
            started = set(children.current.children) if children.current is not None else set()
            running = {pid for pid in tape_pids(os.listdir(self.tape_dir)) | started
                       if pid != self.pid and _running(pid)}
            if not running or _real_time() > deadline:
                return {f"{pid}{format.TAPE_SUFFIX}" for pid in running}
            _real_sleep(0.01)

    def _write_index(self, header: dict, complete: bool, exit_status: int | None = None,
                     end: float | None = None) -> None:
        import json  # at exit only: json (and re) cost every recorded process start-up time

        index = {
            "format_version": format.FORMAT_VERSION,
            "recorder_version": __version__,
            "complete": complete,
            "exit_status": exit_status,
            "python": header["python"],
            "python_minor": header["python_minor"],
            "implementation": header["implementation"],
            "platform": header["platform"],
            "machine": header["machine"],
            "argv": header["argv"],
            "program": header["program"],
            "cwd": header["cwd"],
            "hash_seed": header["hash_seed"],
            "env": header["env"],
            "redacted": header["redacted"],
            "start": header["start"],
            "end": end,
            "processes": self._process_tree(exit_status, complete),
        }
        partial = os.path.join(self.tape_dir, format.INDEX_NAME + ".partial")
        with open(partial, "w") as handle:
            json.dump(index, handle, indent=1)
        os.replace(partial, os.path.join(self.tape_dir, format.INDEX_NAME))

    def _process_tree(self, exit_status: int | None, complete: bool) -> list[dict]:
        """The root first, then every other process that left a tape, each after its parent."""
        from retrace_core.tape.process_tree import process_entry, process_tree, read_tapes, tape_pids

        root = {**process_entry(self._header, None), "exit_status": exit_status, "complete": complete,
                "failed_tests": self._failed_tests}
        if tape_pids(os.listdir(self.tape_dir)) == {self.pid}:
            return [root]  # no children: no tape needs reading
        tree = process_tree(read_tapes(self.tape_dir), self.pid)
        return [root if entry["pid"] == self.pid else entry for entry in tree]


def program_argv(program: list[str]) -> list[str]:
    """``sys.argv`` as python sets it before running PROGRAM (``-m`` resolves later)."""
    if program[:1] in (["-m"], ["-c"]):
        return [program[0], *program[2:]]
    return list(program)


def _running(pid: int) -> bool:
    """Is ``pid`` alive (a zombie has finished)?"""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
