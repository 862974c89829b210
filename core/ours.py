"""What is ours, named once: our package folder, "is this our frame", and the
environment variables our processes hand each other.

Recording, replay and the engine each leave our own frames out of what the program
sees, and each process reads what the one that started it set: when these names were
written out in every module that needed them, they could drift apart. Imported by every
recorded and replayed process before the program runs, so it imports only ``os``.
"""
from __future__ import annotations

import os

# The folder of the retrace_core package, with a trailing separator: a code object's
# co_filename under it is ours (code objects carry paths as imported, not realpath'ed).
PACKAGE_FOLDER = os.path.dirname(os.path.abspath(__file__)) + os.sep
# What our code objects are named in a recorded or replayed process (bootstrap/hidden_code.py):
# "<retrace>/boundary/files.py". A name in angle brackets is no file, and a program's own
# tracer (coverage) skips it without looking the file up on disk: recorded, those look-ups
# were events at moments a replay, running other code of ours, did not reach.
HIDDEN_FOLDER = "<retrace>" + os.sep
OUR_PREFIXES = (PACKAGE_FOLDER, HIDDEN_FOLDER)


# The idents of our own threads in this process (the tape's flusher): whatever code runs
# there runs for us, and the program's tracers are not called for it
# (bootstrap/program_tracers.py).
OUR_THREADS: set[int] = set()


def hidden_name(filename: str) -> str:
    """The name a code object of ours from ``filename`` carries once hidden."""
    return HIDDEN_FOLDER + filename[len(PACKAGE_FOLDER):] if filename.startswith(PACKAGE_FOLDER) else filename


# The main of every recorded and replayed process (bootstrap/launch.py).
LAUNCH_SCRIPT = os.path.join(PACKAGE_FOLDER, "bootstrap", "launch.py")
# Our files that call the program's code other than on our behalf: launch.py runs the
# program, and control/engine_replay.py its exit handlers under the engine. The tracer
# treats them as library code (their calls into the program count), not as ours.
PROGRAM_RUNNERS = (LAUNCH_SCRIPT, os.path.join(PACKAGE_FOLDER, "control", "engine_replay.py"))
PROGRAM_RUNNERS += tuple(hidden_name(runner) for runner in PROGRAM_RUNNERS)


def is_our_file(filename: str) -> bool:
    """Whether code from ``filename`` is retrace's own (left out of the program's tracebacks)."""
    return filename.startswith(OUR_PREFIXES)


# -- environment variables ------------------------------------------------------------
# Settings a user may set (documented in docs/).
RECORDING = "RETRACE_RECORDING"  # the recording an installed hook records into
TURN_TIMEOUT = "RETRACE_TURN_TIMEOUT"  # seconds a replayed thread waits for its turn
STUCK_AFTER = "RETRACE_STUCK_AFTER"  # seconds a replay process may use no CPU (replay/stuck.py)
SECRET_PATTERNS = "RETRACE_SECRET_PATTERNS"  # comma-separated; replaces the default patterns
KEEP_ENV = "RETRACE_KEEP_ENV"  # comma-separated names stored as they are

# Hand-offs between our own processes: all start with PRIVATE_PREFIX. They are stored with
# the recorded environment, and the program sees them.
PRIVATE_PREFIX = "_RETRACE_"
LAUNCHING = "_RETRACE_LAUNCHING"  # set by whoever starts launch.py; popped at once
ROOT_PID = "_RETRACE_ROOT_PID"  # pid of the recording's root process, for its children
PARENT_PID = "_RETRACE_PARENT_PID"  # pid of the recorded parent of a recorded child
STARTED = "_RETRACE_STARTED"  # how a recorded child was started (bootstrap/children.py)
WRITTEN_FOLDERS = "_RETRACE_WRITTEN_FOLDERS"  # folders its recorded parents wrote a module into, os.pathsep-separated
ENGINE_SOCKET = "_RETRACE_ENGINE"  # the controller's listening socket, in an engine replay
TRACER = "_RETRACE_TRACER"  # "c" (csrc), "settrace" (csrc over a trace function) or "python" (the reference)
REPLAY_PATH = "_RETRACE_REPLAY"  # the recording a replay worker replays
REPLAY_PID = "_RETRACE_REPLAY_PID"  # the recorded process it replays
FOLLOW_PIDS = "_RETRACE_FOLLOW"  # forked processes to follow from REPLAY_PID's tape, comma-separated
REPORT_PATH = "_RETRACE_REPORT"  # where a replay worker writes its report
ECHO_OUTPUT = "_RETRACE_ECHO"  # a replay worker prints what the program wrote
KIT_PATH = "_RETRACE_KIT"  # the recorded sources and files a replay worker reads
