"""Child Python processes of a recorded process, recorded into the same recording.

A child that ``_posixsubprocess.fork_exec`` or ``os.posix_spawn`` starts with this
interpreter (``subprocess`` with ``sys.executable``, multiprocessing's spawn start
method, pytest-xdist's workers) is started as ``python [its options] launch.py -- [its program]`` instead, with the
recording's hand-offs in its environment, so it records itself as a further process.
The tape keeps the program's own arguments: a replay sees the call it made.

Not recorded, and so plain boundary calls of the parent: other programs, a python
with options the recorder refuses (``-I``, ``-E``, ``-S``), an interactive one or one
reading its program from stdin, retrace-tui itself, and multiprocessing's helper
processes (the resource tracker and the fork server), which outlive the program.
"""
from __future__ import annotations

import os
import sys

from retrace_core.bootstrap.cmdline import CommandLineError, split_python_arguments, unsupported_options
from retrace_core.ours import LAUNCH_SCRIPT, STARTED  # env: how a recorded child was started (see `how_started`)

SUBPROCESS = "subprocess"
MULTIPROCESSING_SPAWN = "multiprocessing-spawn"
FORK = "fork"
MULTIPROCESSING_FORK = "multiprocessing-fork"
FORKED = (FORK, MULTIPROCESSING_FORK)  # a forked process replays from its parent's start

_ARGV, _EXECUTABLES, _ENV = 0, 1, 5  # positions among fork_exec's arguments (3.11, 3.12)
_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


class Parent:
    """What a recorded process hands to the children it starts."""

    def __init__(self, recording: str, root_pid: int, pid: int) -> None:
        self.recording = recording
        self.root_pid = root_pid
        self.pid = pid
        self.children: list[int] = []  # recorded children started here: the root waits for them


current: Parent | None = None  # this process's, while it records (set by the recorder)


def recorded_arguments(args: tuple, parent: Parent) -> tuple | None:
    """fork_exec's arguments rewritten to record the child, or None to start it as asked."""
    if len(args) <= _ENV:
        return None
    launched = _recorded_command(args[_ARGV], args[_EXECUTABLES], args[_ENV], parent)
    if launched is None:
        return None
    command, environment = launched
    return (command, args[_EXECUTABLES], *args[2:_ENV], environment, *args[_ENV + 1:])


def recorded_spawn_arguments(path, argv, env, parent: Parent, search_path: bool) -> tuple | None:
    """``os.posix_spawn``'s path, argv and env (``posix_spawnp``'s, with ``search_path``)
    rewritten to record the child, or None to start it as asked. From 3.13 on
    ``subprocess`` spawns with it, where it can."""
    name = os.fsdecode(path) if isinstance(path, (str, bytes)) else None
    if name is None:
        return None
    candidates = [name]
    if search_path and not os.path.dirname(name):
        candidates = [os.path.join(folder, name) for folder in os.get_exec_path(env)]
    launched = _recorded_command(argv, candidates, env, parent)
    if launched is None:
        return None
    command, environment = launched
    return path, command, dict(item.partition(b"=")[::2] for item in environment)


def _recorded_command(argv, executables, env, parent: Parent) -> tuple[list, list[bytes]] | None:
    """The command line and environment that start ``argv`` recorded, or None."""
    if not isinstance(argv, (list, tuple)) or not argv or not all(isinstance(a, (str, bytes)) for a in argv):
        return None
    executable = _first_executable(executables)
    if executable is None or not is_this_interpreter(executable):
        return None
    try:
        options, program = split_python_arguments([os.fsdecode(a) for a in argv[1:]])
    except (CommandLineError, UnicodeError):
        return None
    started = _how_started(program)
    if started is None or unsupported_options(options):
        return None
    # The launcher by its path, not imported: a module the program can find in sys.modules
    # in the recording only (inspect.getmodule stats every module's file) ends its replay.
    command = [argv[0], *options, LAUNCH_SCRIPT, "--", *program]
    return command, _child_environment(env, parent, started)


def _how_started(program: list[str]) -> str | None:
    if not program or program[0] == "-":
        return None  # an interactive python, or its program on stdin
    if program[:2] == ["-m", "retrace_tui"] or os.path.basename(program[0]) == "retrace-tui":
        return None
    if program[0] == "-c":
        if any(helper in program[1] for helper in _HELPERS):
            return None
        if "multiprocessing.spawn import spawn_main" in program[1]:
            return MULTIPROCESSING_SPAWN
    return SUBPROCESS


def _first_executable(candidates) -> str | None:
    """The file the child's exec will run: the first candidate that is an executable file."""
    if not isinstance(candidates, (list, tuple)):
        return None
    for candidate in candidates:
        if isinstance(candidate, (str, bytes)):
            path = os.fsdecode(candidate)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
    return None


def is_this_interpreter(path: str) -> bool:
    """``path`` runs this interpreter in this environment: the same file, and for a
    virtual environment the same one (its python is a link to the base interpreter,
    which would run without the environment's packages, the recorder's among them)."""
    if path == sys.executable:
        return True
    if os.path.realpath(path) != os.path.realpath(sys.executable):
        return False
    if sys.prefix == sys.base_prefix:
        return True
    return os.path.dirname(os.path.abspath(path)) == os.path.dirname(os.path.abspath(sys.executable))


def _child_environment(env, parent: Parent, started: str) -> list[bytes]:
    """The child's environment (``None``: this process's; a mapping, or ``[b"NAME=value",
    ...]``) with the recording's hand-offs."""
    from retrace_core.ours import LAUNCHING, PARENT_PID, RECORDING, ROOT_PID

    if env is None:
        items = [name + b"=" + value for name, value in os.environb.items()]
    elif hasattr(env, "items"):
        items = [os.fsencode(name) + b"=" + os.fsencode(value) for name, value in env.items()]
    else:
        items = [os.fsencode(item) for item in env]
    from retrace_core.boundary.written_code import written_folders
    from retrace_core.ours import WRITTEN_FOLDERS

    # A script the parent wrote runs from a folder that a replay may not have: the child
    # keeps importlib's view of it on its tape as the parent does (written_code.py).
    ours = {RECORDING: parent.recording, ROOT_PID: str(parent.root_pid), PARENT_PID: str(parent.pid),
            LAUNCHING: "1", STARTED: started, WRITTEN_FOLDERS: os.pathsep.join(sorted(written_folders))}
    names = {name.encode() for name in ours}
    kept = []
    seed = None
    for item in items:
        name, _, value = item.partition(b"=")
        if name == b"PYTHONHASHSEED":
            seed = value
        elif name not in names:
            kept.append(item)
    if not seed or seed == b"random":  # a replay needs the seed the child hashed with
        seed = str(int.from_bytes(os.urandom(4), "big")).encode()
    kept.append(b"PYTHONHASHSEED=" + seed)
    kept.extend(name.encode() + b"=" + os.fsencode(value) for name, value in ours.items())
    return kept


def how_forked(frame) -> str:
    """How the process forked at ``frame`` (the caller of ``os.fork``) was started."""
    filename = frame.f_code.co_filename if frame is not None else ""
    if os.path.basename(filename) == "popen_fork.py" and "multiprocessing" in filename:
        return MULTIPROCESSING_FORK
    return FORK


def reseed_random() -> None:
    """In a forked child, recording or replaying: ``random``'s own at-fork handler
    reseeded its generator with entropy no tape sees; seed it again through the
    recorded ``os.urandom``."""
    generator = getattr(sys.modules.get("random"), "_inst", None)
    if generator is not None:
        generator.seed()
