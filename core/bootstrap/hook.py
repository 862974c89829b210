"""The `.pth` hook: record any Python process started with ``RETRACE_RECORDING=REC``.

`retrace-tui install` writes one line into site-packages that imports this module
only when the variable is set, so an unrecorded process pays nothing but an
environment lookup. A process to be recorded is re-executed (same pid) as
``python [its options] launch.py [its program]``, with PYTHONHASHSEED fixed first.
"""
from __future__ import annotations

import os
import sys

from retrace_core.ours import LAUNCHING, RECORDING

PTH_NAME = "retrace_tui_hook.pth"
# Nothing is imported where LAUNCHING is set (launch.py is about to record or replay): a
# module of ours imported there is in the recorded ``sys.modules`` and not in a replay
# without the hook, and programs that walk it (``inspect.getmodule``) differ.
PTH_LINE = (f"import os; os.environ.get('{RECORDING}') and not os.environ.get('{LAUNCHING}') "
            "and __import__('retrace_core.bootstrap.hook').bootstrap.hook.activate()\n")


def launch_command(interpreter_options: list[str], program: list[str]) -> list[str]:
    from retrace_core.ours import LAUNCH_SCRIPT  # the launcher by its path, not imported: see children.py

    return [sys.executable, *interpreter_options, LAUNCH_SCRIPT, "--", *program]


def prepare_environment(environ: dict, recording: str) -> None:
    """Fix the hash seed and mark the next process as launched by us."""
    if not environ.get("PYTHONHASHSEED"):
        environ["PYTHONHASHSEED"] = str(int.from_bytes(os.urandom(4), "big"))
    environ[RECORDING] = os.path.abspath(recording)
    environ[LAUNCHING] = "1"


def activate() -> None:
    """Called from the `.pth` line at interpreter start-up."""
    try:
        from retrace_core.ours import ROOT_PID

        if os.environ.get(LAUNCHING):
            # launch.py is about to record or replay. Only the line of an older install gets
            # here (PTH_LINE imports nothing then): leave sys.modules as launch.py would find
            # it without us, or the recording holds modules of ours a replay does not.
            for name in [name for name in sys.modules if name.partition(".")[0] == "retrace_core"]:
                del sys.modules[name]
            return
        from retrace_core.bootstrap.cmdline import CommandLineError, split_python_arguments, unsupported_options

        try:
            options, program = split_python_arguments(list(sys.orig_argv[1:]))
        except CommandLineError:
            return
        if program[:2] == ["-m", "retrace_tui"] or (program and os.path.basename(program[0]) == "retrace-tui"):
            return  # our own commands (`retrace-tui pids REC`) are not the program to record
        refused = unsupported_options(options)
        if refused:
            sys.stderr.write(f"retrace: not recording: {refused}\n")
            return
        if not program or program[0] == "-":
            sys.stderr.write("retrace: RETRACE_RECORDING is set, but an interactive session or "
                             "a program on stdin is not recorded\n")
            return
        recording = os.environ["RETRACE_RECORDING"]
        if not os.environ.get(ROOT_PID):
            import shutil

            from retrace_core.tape.format import tape_dir_for

            shutil.rmtree(tape_dir_for(os.path.abspath(recording)), ignore_errors=True)
        prepare_environment(os.environ, recording)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, launch_command(options, program))
    except Exception as exc:  # never stop the program from starting
        sys.stderr.write(f"retrace: not recording this process ({type(exc).__name__}: {exc})\n")
