"""Starting a replay worker for a recorded process and collecting its verdict."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field

import msgpack

from retrace_core import ours
from retrace_core.replay.sources import kit_sources, notices
from retrace_core.replay.stuck import StuckWatch
from retrace_core.tape import archive, format
from retrace_core.tape.errors import RecordingError
from retrace_core.tape.frames import decompress_frames
from retrace_core.tape.reader import read_header
from retrace_core.tape.recording import Recording


def check_python_version(recorded: str | None, path: str) -> None:
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if recorded and recorded != here:
        raise RecordingError(f"{path} was recorded with Python {recorded}; replay it with python{recorded} "
                             f"(this is Python {here})")



@dataclass
class ReplayResult:
    """The verdict of one replay: whether it matched the recording, and if not, where it diverged."""

    matched: bool
    exit_status: int | None
    recorded_exit_status: int | None
    events: int
    divergence: dict | None = None
    notices: list[str] = field(default_factory=list)
    incomplete: bool = False
    bootstrap_difference: list[str] = field(default_factory=list)
    address_differences: int = 0  # output writes that differed only in object addresses
    argument_differences: int = 0  # calls answered from the tape whose arguments differed
    first_argument_difference: str | None = None


@dataclass
class PreparedReplay:
    """Everything needed to start a worker for one recorded process."""

    command: list[str]
    environment: dict
    cwd: str | None
    pid: int
    notices: list[str]


def prepare(recording_path: str, pid: int | None, work_dir: str) -> PreparedReplay:
    """Check the recording, extract it into ``work_dir`` (when it is an archive), write the
    worker's kit there, and build the worker's command line and environment."""
    with Recording(recording_path) as recording:
        pids = recording.pids()
        pid = pid if pid is not None else pids[0]
        if pid not in pids:
            raise RecordingError(f"{recording_path}: no process {pid} (processes: {', '.join(map(str, pids))})")
        name = f"{pid}{format.TAPE_SUFFIX}"
        data = recording.read(name)
        # The index for a finished recording; the tape's own header for one that was killed.
        check_python_version(recording.index.get("python_minor") or read_header(data, name).get("python_minor"),
                             recording_path)
        if decompress_frames(data, name)[1]:
            raise RecordingError(f"{recording_path}: the tape of process {pid} is cut off in the middle "
                                 f"of a frame; the recording is damaged")
        lineage = forked_lineage(recording, pid)
        start_name = f"{lineage[0]}{format.TAPE_SUFFIX}"
        header = read_header(recording.read(start_name), start_name)
        found = notices(recording, pid)
        sources: dict = {}
        for process in lineage:  # a forked process imported what its parents had, and more
            sources.update(kit_sources(recording, process))
        kit = {"sources": sources, "notices": found}
        directory = recording.directory
    kit_path = os.path.join(work_dir, "kit.msgpack")
    with open(kit_path, "wb") as handle:
        handle.write(msgpack.packb(kit, use_bin_type=True))
    tape_dir = directory or os.path.join(work_dir, "tape")
    if directory is None:
        # Only the tapes this replay reads: a verify of a run with 426 child Pythons wrote
        # the whole 131 MB recording out once for each of them.
        archive.extract(recording_path, tape_dir, only={f"{process}{format.TAPE_SUFFIX}" for process in lineage})
    environment = dict(header.get("env", {}))
    # The worker starts with the recorded environment, so the interpreter is configured as it was.
    environment.update({
        "PYTHONHASHSEED": header.get("hash_seed") or "0",
        ours.LAUNCHING: "1",  # keeps an installed RETRACE_RECORDING hook quiet
        ours.REPLAY_PATH: os.path.abspath(tape_dir),
        ours.REPLAY_PID: str(lineage[0]),
        ours.FOLLOW_PIDS: ",".join(map(str, lineage[1:])),
        ours.KIT_PATH: kit_path,
    })
    if os.environ.get(ours.TURN_TIMEOUT):  # the replayer's setting, not the recording's
        environment[ours.TURN_TIMEOUT] = os.environ[ours.TURN_TIMEOUT]
    command = [_interpreter(header), *header.get("interpreter_options", []), ours.LAUNCH_SCRIPT, "--replay"]
    cwd = header.get("cwd")
    return PreparedReplay(command, environment, cwd if cwd and os.path.isdir(cwd) else None, pid, found)



def _interpreter(header: dict) -> str:
    """The recorded ``sys.executable`` when it names this interpreter (``python3`` and
    ``python`` in one environment are one), so the replay sees the same: it is this one."""
    from retrace_core.bootstrap.children import is_this_interpreter

    recorded = header.get("executable")
    try:
        return recorded if recorded and is_this_interpreter(recorded) else sys.executable
    except OSError:
        return sys.executable


def forked_lineage(recording: Recording, pid: int) -> list[int]:
    """The processes a replay of ``pid`` runs through: the one that was started from a
    command line (the root, or an exec'd child) and each fork from there to ``pid``."""
    from retrace_core.bootstrap.children import FORKED

    lineage = [pid]
    pids = set(recording.pids())
    while True:
        name = f"{lineage[0]}{format.TAPE_SUFFIX}"
        header = read_header(recording.read(name), name)
        if header.get("started") not in FORKED:
            return lineage
        parent = header.get("parent")
        if parent not in pids or parent in lineage:
            raise RecordingError(f"{recording.path}: process {lineage[0]} was forked by process {parent}, "
                                 f"whose tape is not in the recording; it cannot be replayed")
        lineage.insert(0, parent)


def _run_watched(command: list[str], environment: dict, cwd: str, stdin, echo: bool):
    """Run the replay worker to its end: (the completed process, None), or (None, why) when
    it was stuck (replay/stuck.py) and was killed."""
    process = subprocess.Popen(command, env=environment, cwd=cwd, stdin=stdin,
                               stdout=None if echo else subprocess.DEVNULL,
                               stderr=None if echo else subprocess.PIPE)
    watch = StuckWatch(process.pid)
    # stderr goes to a pipe when not echoed: read it on a thread, so the worker never blocks on a full pipe
    captured: list[bytes] = []
    reader = None
    if process.stderr is not None:
        reader = threading.Thread(target=lambda: captured.append(process.stderr.read()), daemon=True)
        reader.start()
    while True:
        try:
            process.wait(timeout=1.0)
            break
        except subprocess.TimeoutExpired:
            if watch.stuck():
                process.kill()
                process.wait()
                if reader is not None:
                    reader.join(timeout=5)
                return None, watch.message()
    if reader is not None:
        reader.join()
    return subprocess.CompletedProcess(command, process.returncode, None, b"".join(captured)), None


def replay(recording_path: str, pid: int | None = None, echo: bool = True,
           stdin=subprocess.DEVNULL) -> ReplayResult:
    """Run one replay to its end; with ``echo`` its stdout/stderr bytes go to ours."""
    with tempfile.TemporaryDirectory(prefix="retrace-replay-") as folder:
        prepared = prepare(recording_path, pid, folder)
        if echo:
            for notice in prepared.notices:
                sys.stderr.write(f"retrace-tui: notice: {notice}\n")
            sys.stderr.flush()
        report_path = os.path.join(folder, "report.json")
        environment = dict(prepared.environment)
        environment[ours.REPORT_PATH] = report_path
        environment[ours.ECHO_OUTPUT] = "1" if echo else "0"
        completed, stuck = _run_watched(prepared.command, environment, prepared.cwd or folder, stdin, echo)
        if stuck is not None:
            divergence = {"kind": "stuck", "event": None, "expected": None, "asked": None,
                          "message": stuck, "stack": [], "likely_causes": []}
            if echo:  # the killed worker cannot say it, as it says a divergence
                from retrace_core.replay.divergence import format_report

                sys.stderr.write(format_report(divergence) + "\n")
            return ReplayResult(matched=False, exit_status=None, recorded_exit_status=None, events=0,
                                divergence=divergence, notices=list(prepared.notices), incomplete=False)
        try:
            with open(report_path) as handle:
                report = json.load(handle)
        except (OSError, ValueError):
            detail = (completed.stderr or b"").decode(errors="replace").strip().splitlines()
            raise RecordingError(f"the replay worker for process {prepared.pid} stopped without a report "
                                 f"(exit status {completed.returncode})"
                                 + (f": {detail[-1]}" if detail else "")) from None
    return ReplayResult(matched=report["matched"], exit_status=report["exit_status"],
                        recorded_exit_status=report["recorded_exit_status"], events=report["events"],
                        divergence=report["divergence"], notices=report["notices"],
                        incomplete=report["incomplete"],
                        bootstrap_difference=report.get("bootstrap_difference", []),
                        address_differences=report.get("address_differences", 0),
                        argument_differences=report.get("argument_differences", 0),
                        first_argument_difference=report.get("first_argument_difference"))
