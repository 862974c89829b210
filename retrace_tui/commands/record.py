"""`retrace-tui record -o REC -- ARGS...`: run ``python ARGS...`` recorded into REC."""
from __future__ import annotations

import os
import re
import shutil
import signal
import sys

from retrace_core.bootstrap.cmdline import CommandLineError, split_python_arguments, unsupported_options
from retrace_core.bootstrap.hook import launch_command, prepare_environment
from retrace_core.boundary.environment import KEEP_VARIABLE
from retrace_core.tape.format import tape_dir_for
from retrace_tui import recorded_program
from retrace_tui.errors import UsageError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "record", help="run a Python command recorded into a .retrace file",
        usage="retrace-tui record -o REC [--keep-env NAME] -- ARGS...",
        description="Runs `python ARGS...` with its boundary recorded into REC, and exits "
                    "with the program's exit status.")
    parser.add_argument("-o", "--recording", "--output", dest="recording", required=True, metavar="REC",
                        help="the .retrace file to write (parent folders are created)")
    parser.add_argument("--keep-env", action="append", default=[], metavar="NAME",
                        help="store this environment variable's value even though its name looks secret")
    parser.set_defaults(run=run, program=[])


# What people type for "Python" in front of a command: python, python3, python3.12.
_INTERPRETER_NAME = re.compile(r"python(\d+(\.\d+)?)?")


def _without_interpreter(program: list[str]) -> list[str]:
    """ARGS as the user typed them, less a leading ``python`` (``record -- python -m
    pytest``, as the command runs unrecorded) when that names this very Python; another
    interpreter is refused: the program would run under this one."""
    first = program[0]
    found = shutil.which(first) if os.sep not in first else (first if os.access(first, os.X_OK) else None)
    named = _INTERPRETER_NAME.fullmatch(os.path.basename(first)) is not None
    if found is None or not (named or _is_binary(found)):
        return program
    if not named and os.path.realpath(found) != os.path.realpath(sys.executable):
        raise UsageError(f"record: {first} is not a Python program; record runs `python ARGS...`")
    _refuse_another_python(first, found, f"{first} is another Python")
    return program[1:]


def _refuse_another_python(name: str, found: str, what: str) -> None:
    ours = "python%d.%d" % sys.version_info[:2]
    same = os.path.realpath(found) == os.path.realpath(sys.executable) or \
        os.path.basename(name) in ("python", "python3", ours) and _version_of(found) == sys.version_info[:2]
    if not same:
        raise UsageError(f"record: {what} than this retrace-tui's ({sys.executable}, "
                         f"{ours}); install retrace-tui there and run `{name} -m retrace_tui record ...`")


def _console_script(name: str) -> str | None:
    """The file of a command on PATH that is a Python script (``record -- pytest -x``, as
    pip's console scripts are run), checked to run on this Python; None if there is none."""
    found = shutil.which(name) if os.sep not in name else None
    interpreter = _shebang_python(found) if found else None
    if interpreter is None:
        return None
    where = shutil.which(interpreter) if os.sep not in interpreter else interpreter
    if where is None:
        return None
    _refuse_another_python(interpreter, where, f"{name} ({found}) runs on {interpreter}, another Python")
    return found


def _shebang_python(path: str) -> str | None:
    """The Python a script's first line names: ``#!/venv/bin/python``, ``#!/usr/bin/env
    python3``, or pip's form for long paths (``#!/bin/sh``, then ``'exec' /venv/bin/python``
    in triple quotes)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1024).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    if not head or not head[0].startswith("#!"):
        return None
    words = head[0][2:].split()
    if words[:1] == ["/bin/sh"] and len(head) > 1 and head[1].startswith(PIP_LONG_SHEBANG):
        words = head[1].split()[1:2]
    elif words and os.path.basename(words[0]) == "env":
        words = [word for word in words[1:] if not word.startswith("-")]
    if not words or _INTERPRETER_NAME.fullmatch(os.path.basename(words[0])) is None:
        return None
    return words[0]


# The second line pip writes when the interpreter's path is too long for "#!".
PIP_LONG_SHEBANG = "'" * 3 + "exec' "


def _is_binary(path: str) -> bool:
    """An executable file that is no script (an ELF interpreter, not a Python file)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def _version_of(interpreter: str) -> tuple[int, int] | None:
    import subprocess

    try:
        said = subprocess.run([interpreter, "-c", "import sys; print(*sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30).stdout.split()
        return int(said[0]), int(said[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def _check_program(program: list[str]) -> tuple[list[str], list[str]]:
    if not program:
        raise UsageError("record: no program given after --")
    program = _without_interpreter(program)
    if not program:
        raise UsageError("record: no program given after the interpreter")
    try:
        options, runnable = split_python_arguments(program)
    except CommandLineError as exc:
        raise UsageError(f"record: {exc}") from None
    refused = unsupported_options(options)
    if refused:
        raise UsageError(f"record: {refused}")
    if not runnable or runnable[0] == "-":
        raise UsageError("record: no program given after -- (a script, -m module or -c code)")
    if runnable[0] not in ("-m", "-c") and not os.path.exists(runnable[0]):
        script = _console_script(runnable[0])
        if script is None:
            raise UsageError(f"record: no such script: {runnable[0]}")
        runnable = [script, *runnable[1:]]
    return options, runnable


def lock_path(recording: str) -> str:
    """The file that says a recording to ``recording`` is running (it holds the pid)."""
    return recording + ".lock"


def _lock(recording: str) -> None:
    """Claim ``recording`` for this run; a second run to the same path refuses with one
    line rather than one of the two being lost. A lock whose recorder died is taken over."""
    path = lock_path(recording)
    for _attempt in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            holder = _lock_holder(path)
            if holder is not None:
                raise UsageError(f"record: {recording} is being recorded by another retrace-tui "
                                 f"(pid {holder}); choose another -o") from None
            try:
                os.unlink(path)  # its recorder is gone
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        return
    raise UsageError(f"record: {recording} is being recorded by another retrace-tui; choose another -o")


def _lock_holder(path: str) -> int | None:
    """The live pid that holds the lock, or None for a stale one."""
    try:
        with open(path) as handle:
            pid = int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return -1  # being written this instant: taken
    if pid <= 0:
        return -1
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def _unlock(recording: str) -> None:
    """Remove the lock if it is this run's."""
    path = lock_path(recording)
    try:
        with open(path) as handle:
            if handle.read().strip() == str(os.getpid()):
                os.unlink(path)
    except OSError:
        pass


def _prepare_output(recording: str) -> str:
    recording = os.path.abspath(recording)
    if os.path.isdir(recording):
        raise UsageError(f"record: {recording} is a directory; give the .retrace file to write")
    tape_dir = tape_dir_for(recording)
    try:
        os.makedirs(os.path.dirname(recording), exist_ok=True)
        _lock(recording)
        if os.path.lexists(tape_dir):  # a tape folder left by a recording that was killed
            import shutil  # here only: it imports zlib, bz2 and lzma, 4 ms of every recording's start

            shutil.rmtree(tape_dir, ignore_errors=True)
        os.makedirs(tape_dir, mode=0o700)  # what the program reads is private
        probe = os.path.join(os.path.dirname(recording), f".retrace-probe-{os.getpid()}")
        with open(probe, "w"):
            pass
        os.unlink(probe)
    except OSError as exc:
        _unlock(recording)
        reason = exc.strerror or str(exc)
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            reason = "a parent of it is a file, not a folder"
        raise UsageError(f"record: cannot write {recording}: {reason}") from None
    return recording


def run(args) -> int:
    options, program = _check_program(args.program)
    recording = _prepare_output(args.recording)
    try:
        return _record(options, program, recording, args.keep_env)
    finally:
        _unlock(recording)


def _record(options: list[str], program: list[str], recording: str, keep_env: list[str]) -> int:
    environment = dict(os.environ)
    for variable in ("_RETRACE_ROOT_PID", "_RETRACE_PARENT_PID"):
        environment.pop(variable, None)
    if keep_env:
        kept = [name for name in environment.get(KEEP_VARIABLE, "").split(",") if name]
        environment[KEEP_VARIABLE] = ",".join(kept + keep_env)
    prepare_environment(environment, recording)
    # Like a shell: Ctrl-C goes to the program, and we report how it ended; SIGINT,
    # SIGTERM and SIGHUP sent to us are passed on, and the program does not outlive us.
    status = recorded_program.run(launch_command(options, program), environment)
    if status < 0:
        if not os.path.isdir(tape_dir_for(recording)):
            return 128 - status  # the program ended by its signal after the recording was finished
        name = signal.Signals(-status).name
        print(f"retrace-tui: the program was killed by {name}; {tape_dir_for(recording)} holds its "
              f"tape up to the last flush", file=sys.stderr)
        return 128 - status
    if os.path.isdir(tape_dir_for(recording)):
        # A root that finished its recording packed it and removed the folder.
        print(f"retrace-tui: the program's process did not finish its recording (it became another "
              f"program with os.exec*, or its recorder stopped); {tape_dir_for(recording)} holds its tape",
              file=sys.stderr)
    return status
