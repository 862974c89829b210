"""`retrace-tui record -o REC -- ARGS...`: run ``python ARGS...`` recorded into REC."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

from retrace_core.bootstrap.cmdline import CommandLineError, split_python_arguments, unsupported_options
from retrace_core.bootstrap.hook import launch_command, prepare_environment
from retrace_core.boundary.environment import KEEP_VARIABLE
from retrace_core.tape.format import tape_dir_for
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


def _check_program(program: list[str]) -> tuple[list[str], list[str]]:
    if not program:
        raise UsageError("record: no program given after --")
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
        raise UsageError(f"record: no such script: {runnable[0]}")
    return options, runnable


def _prepare_output(recording: str) -> str:
    recording = os.path.abspath(recording)
    if os.path.isdir(recording):
        raise UsageError(f"record: {recording} is a directory; give the .retrace file to write")
    tape_dir = tape_dir_for(recording)
    try:
        os.makedirs(os.path.dirname(recording), exist_ok=True)
        shutil.rmtree(tape_dir, ignore_errors=True)
        os.makedirs(tape_dir)
        probe = os.path.join(os.path.dirname(recording), f".retrace-probe-{os.getpid()}")
        with open(probe, "w"):
            pass
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            reason = "a parent of it is a file, not a folder"
        raise UsageError(f"record: cannot write {recording}: {reason}") from None
    return recording


def run(args) -> int:
    options, program = _check_program(args.program)
    recording = _prepare_output(args.recording)
    environment = dict(os.environ)
    for variable in ("_RETRACE_ROOT_PID", "_RETRACE_PARENT_PID"):
        environment.pop(variable, None)
    if args.keep_env:
        kept = [name for name in environment.get(KEEP_VARIABLE, "").split(",") if name]
        environment[KEEP_VARIABLE] = ",".join(kept + args.keep_env)
    prepare_environment(environment, recording)
    # Like a shell: Ctrl-C goes to the program, and we report how it ended. A handler, not
    # SIG_IGN: an ignored signal would stay ignored in the program too.
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        completed = subprocess.run(launch_command(options, program), env=environment)
    finally:
        signal.signal(signal.SIGINT, previous)
    status = completed.returncode
    if status < 0:
        if not os.path.isdir(tape_dir_for(recording)):
            return 128 - status  # the program ended by its signal after the recording was finished
        name = signal.Signals(-status).name
        print(f"retrace-tui: the program was killed by {name}; {tape_dir_for(recording)} holds its "
              f"tape up to the last flush", file=sys.stderr)
        return 128 - status
    return status
