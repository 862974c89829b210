"""Recorder: one recorded process from its first boundary call to its packed archive.

``start()`` writes the process header, applies the boundary table and starts the
flusher; ``finish(status)`` runs once, at exit (or from ``os._exit``), and writes the
exit record. The root process then writes ``index.json`` and packs the tape
directory into the ``.retrace`` file.

A fault inside the recorder never reaches the program: recording stops with one
warning on stderr, the recording is marked incomplete, and the program goes on.
"""
from __future__ import annotations

import atexit
import os
import sys
import time

from retrace_core import __version__
from retrace_core.boundary.environment import stored_environment
from retrace_core.boundary.guard import bypass
from retrace_core.boundary.output import stream_settings
from retrace_core.boundary import gc_guard
from retrace_core.boundary.patcher import Patcher
from retrace_core.pytest import markers
from retrace_core.bootstrap.preload import loaded_modules
from retrace_core.tape import format
from retrace_core.tape.writer import TapeWriter

_real_exit = os._exit
_real_time = time.time
_stderr_fd = 2


def warn(message: str) -> None:
    """One line on the real stderr, never recorded."""
    try:
        os.write(_stderr_fd, f"retrace: {message}\n".encode(errors="replace"))
    except OSError:
        pass


class Recorder:
    def __init__(self, recording: str, root: bool, program: list[str], interpreter_options: list[str]) -> None:
        self.recording = recording
        self.tape_dir = format.tape_dir_for(recording)
        self.root = root
        self.program = program
        self.interpreter_options = interpreter_options
        self.pid = os.getpid()
        self.exit_status: int | None = None
        self.fault: str | None = None
        self.tape: TapeWriter | None = None
        self._header: dict = {}
        self._finished = False

    # -- start ----------------------------------------------------------------------

    def header(self) -> dict:
        environment, redacted = stored_environment()
        return {
            "pid": self.pid,
            "ppid": os.getppid(),
            "parent": None if self.root else _int_or_none(os.environ.get("_RETRACE_PARENT_PID")),
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
        }

    def start(self) -> None:
        os.makedirs(self.tape_dir, exist_ok=True)
        self.tape = TapeWriter(os.path.join(self.tape_dir, f"{self.pid}{format.TAPE_SUFFIX}"),
                               on_fault=self._on_fault)
        header = self._header = self.header()
        self.tape.control([format.PROCESS, header])
        self.tape.flush()  # a process killed at once still leaves a readable tape
        # No index.json yet: readers build one from the tapes of an unfinished recording.
        os.environ["_RETRACE_PARENT_PID"] = str(self.pid)  # for recorded children
        # Registered first, so it runs after every handler the program registers.
        atexit.register(self._finish_at_exit)
        os._exit = self._exit
        os.register_at_fork(before=self._before_fork, after_in_parent=self._after_fork_in_parent,
                            after_in_child=self._after_fork_in_child)
        Patcher(self.tape).install()
        gc_guard.install()
        markers.install(self._marker)
        self.tape.start_flusher()

    def _marker(self, kind: str, data: dict) -> None:
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

    def _after_fork_in_child(self) -> None:
        # Forked children are not recorded yet; they must not write the parent's tape.
        if self.tape is not None:
            self.tape.abandon_after_fork()
        self._finished = True

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
        self.tape.control([format.EXIT, {"exit_status": exit_status, "end": end, "fault": self.fault}])
        self.tape.close()
        store_sources(self.tape_dir, self.pid)
        if self.root:
            self._write_index(self._header, complete=self.fault is None, exit_status=exit_status, end=end)
            from retrace_core.tape.archive import pack

            pack(self.tape_dir, self.recording)

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
        """The root first, then every other process that left a tape, parents before children."""
        root = {"pid": self.pid, "parent": None, "argv": self._header["argv"],
                "program": self._header["program"], "exit_status": exit_status,
                "complete": complete}
        others = []
        for name in sorted(os.listdir(self.tape_dir)):
            stem = name[: -len(format.TAPE_SUFFIX)]
            if not name.endswith(format.TAPE_SUFFIX) or not stem.isdigit() or int(stem) == self.pid:
                continue
            from retrace_core.tape.reader import read_tape

            try:
                with open(os.path.join(self.tape_dir, name), "rb") as handle:
                    tape = read_tape(handle.read(), name)
            except Exception:
                continue
            others.append({"pid": int(stem), "parent": tape.process.get("parent"),
                           "argv": tape.process.get("argv"), "program": tape.process.get("program"),
                           "exit_status": (tape.exit or {}).get("exit_status"), "complete": tape.complete})
        return [root, *others]


def program_argv(program: list[str]) -> list[str]:
    """``sys.argv`` as python sets it before running PROGRAM (``-m`` resolves later)."""
    if program[:1] in (["-m"], ["-c"]):
        return [program[0], *program[2:]]
    return list(program)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
