"""The replay worker: boots like the recorded process, then answers it from the tape.

Runs inside ``launch.py --replay``, so the program starts through the same bootstrap as
when it was recorded. Before the first boundary patch it restores what the recorded
process saw at start (environment, cwd), serves project sources from the recording,
and then applies the boundary table in replay mode.

The worker is a library first: :class:`ReplayWorker` takes listeners that are told of
each consumed event (the time-travel engine maps events to positions with them).
"""
from __future__ import annotations

import atexit
import os
import sys

import msgpack

from retrace_core.bootstrap.preload import loaded_modules
from retrace_core.boundary import collector, gc_guard, working_folder, written_code
from retrace_core.boundary.environment import REDACTED, REDACTED_PART
from retrace_core.boundary.guard import bypass
from retrace_core.boundary.patcher import REPLAY, Patcher
from retrace_core.ours import (  # hand-offs from runner.py
    ECHO_OUTPUT,
    FOLLOW_PIDS,
    KIT_PATH,
    REPLAY_PATH,
    REPLAY_PID,
    REPORT_PATH,
)
from retrace_core.pytest import markers
from retrace_core.replay import sources as recorded_sources
from retrace_core.replay.divergence import Divergence, format_report
from retrace_core.replay.player import TapePlayer
from retrace_core.tape import format

_os_write = os.write
_real_exit = os._exit
DIVERGED = 86  # the worker's exit status when the replay diverged (the report says how)



class ReplayWorker:
    """The replay of one recorded process, inside its worker: restores the recorded start,
    patches the boundary to answer from the tape, and reports how the replay ended."""

    def __init__(self, tape_dir: str, pid: int, echo: bool, report_path: str | None, kit_path: str,
                 follow: list[int] = ()) -> None:
        """``tape_dir`` is an extracted recording and ``kit_path`` what the controller
        prepared (sources, notices): the worker reads plain files with what recording
        imported too, so it imports nothing the recorded process did not (see preload).
        ``follow``: the forks to follow from ``pid``'s tape, to replay a forked process."""
        self.echo = echo
        self.report_path = report_path
        self._finished = False
        self.marker_listeners: list = []  # (kind, data) -> None: the engine's, under the engine
        with open(os.path.join(tape_dir, f"{pid}{format.TAPE_SUFFIX}"), "rb") as handle:
            data = handle.read()
        with open(kit_path, "rb") as handle:
            kit = msgpack.unpackb(handle.read(), raw=False)
        self.notices = kit["notices"]
        self.sources = recorded_sources.RecordedSources(kit["sources"])
        self.player = TapePlayer(data, f"{pid}{format.TAPE_SUFFIX}", causes=self.likely_causes,
                                 output=self._output)
        self.header = self.player.header
        self.pid = pid
        for child in follow:  # read now: the replay makes no file reads of its own later
            with open(os.path.join(tape_dir, f"{child}{format.TAPE_SUFFIX}"), "rb") as handle:
                self.player.follow.append((child, handle.read(), f"{child}{format.TAPE_SUFFIX}"))

    # -- likely causes of a divergence ----------------------------------------------

    def likely_causes(self) -> list[str]:
        causes = []
        redacted = self.header.get("redacted") or []
        if redacted:
            causes.append(f"the recording redacted the environment values of {', '.join(redacted)}: "
                          f"if the program used one, replay saw {REDACTED!r} (or {REDACTED_PART!r} in place "
                          f"of a password or token inside the value)")
        causes.extend(notice for notice in self.notices if "was" in notice)  # version differences
        if self.player.fault:
            causes.append(f"the recorder stopped early ({self.player.fault}); later calls are not on the tape")
        causes.append("a source of nondeterminism that is not recorded (e.g. a C extension reading the "
                      "clock or the network itself, or the id() or memory address of an object)")
        return causes

    # -- start ----------------------------------------------------------------------

    def prepare(self) -> None:
        """Restore the recorded start state and apply the boundary in replay mode."""
        os.environ.clear()
        os.environ.update(self.header.get("env", {}))
        cwd = self.header.get("cwd")
        if cwd and os.path.isdir(cwd):
            os.chdir(cwd)
        working_folder.replay_starts_in(cwd)
        recorded_sources.install(self.sources)
        written_code.written_folders.update(self.header.get("written_folders", ()))
        written_code.restore_finders(self.header.get("written_finders", {}))
        atexit.register(self._finish_at_exit)
        os._exit = self._exit
        here, recorded = loaded_modules(), self.header.get("preloaded", [])
        if here != recorded:
            self.bootstrap_difference = [f"-{m}" for m in recorded if m not in here] + \
                [f"+{m}" for m in here if m not in recorded] or ["(same modules, another order)"]
        Patcher(self.player, REPLAY).install()
        gc_guard.install()
        if collector.scheduled(self.header):
            collector.ReplayedCollections().install(self.player)
        markers.install(self._marker)

    def _marker(self, kind: str, data: dict) -> None:
        for listener in self.marker_listeners:
            listener(kind, data)

    def script_source(self, path: str) -> bytes | None:
        return self.sources.source(path)

    # -- output ---------------------------------------------------------------------

    def _output(self, fd: int, data: bytes) -> None:
        if self.echo:
            try:
                _os_write(fd, data)
            except OSError:
                pass

    # -- end ------------------------------------------------------------------------

    exit_status: int | None = None
    bootstrap_difference: list[str] = []

    def _finish_at_exit(self) -> None:
        self.finish(self.exit_status)

    on_exit = None  # the engine's: the program called os._exit(status)

    def _exit(self, status: int) -> None:
        if self.on_exit is not None:
            self.on_exit(status)
        self.finish(status)
        _real_exit(status)

    def finish(self, exit_status: int | None) -> None:
        if self._finished:
            return
        self._finished = True
        try:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Divergence:
                    raise
                except Exception:
                    pass
            self.player.finish(exit_status)
        except Divergence as divergence:
            self.diverged(divergence)
        self._write_report(None, exit_status)

    def diverged(self, divergence: Divergence) -> None:
        """Report the first divergence and stop at once: nothing of the program runs on."""
        self._write_report(divergence.report, None)
        if self.echo or not self.report_path:
            _os_write(2, (format_report(divergence.report) + "\n").encode(errors="replace"))
        _real_exit(DIVERGED)

    def _write_report(self, divergence: dict | None, exit_status: int | None) -> None:
        if not self.report_path:
            return
        with bypass():  # our own file, not the program's
            self._write_report_file(divergence, exit_status)

    def _write_report_file(self, divergence: dict | None, exit_status: int | None) -> None:
        import json  # at the end only: the program never sees it imported

        self.player.read_end()
        report = {"matched": divergence is None, "events": self.player.consumed, "divergence": divergence,
                  "notices": self.notices, "exit_status": exit_status,
                  "recorded_exit_status": (self.player.exit or {}).get("exit_status"),
                  "incomplete": self.player.exit is None or self.player.fault is not None,
                  "bootstrap_difference": self.bootstrap_difference,
                  "address_differences": self.player.address_differences,
                  "argument_differences": self.player.argument_differences,
                  "first_argument_difference": self.player.first_difference_text()}
        with open(self.report_path, "w") as handle:
            json.dump(report, handle)


def from_environment() -> ReplayWorker:
    follow = [int(pid) for pid in os.environ.get(FOLLOW_PIDS, "").split(",") if pid]
    return ReplayWorker(os.environ[REPLAY_PATH], int(os.environ[REPLAY_PID]),
                        echo=os.environ.get(ECHO_OUTPUT) == "1", report_path=os.environ.get(REPORT_PATH),
                        kit_path=os.environ[KIT_PATH], follow=follow)
