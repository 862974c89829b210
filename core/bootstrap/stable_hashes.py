"""Default hashes in the order the program first asks for them, recorded and replayed.

``object.__hash__`` is an address, so a set of objects that have no ``__hash__`` of their
own (asyncio's tasks, a pool's connections, a test plugin's predicates) iterates in address
order, and a program acting in that order makes its boundary calls in it. Our own code
allocates beside the program's, differently when recording and when replaying, so the
program's objects cannot have the same addresses in both; a replay then took another path
than the recording (docs/replay.md, "Unrecorded nondeterminism").

So a recorded process and its replay both give every object the program hashes for the
first time the next number (csrc/hashes.c has how): the program does the same things in
the same order in both, so those sets iterate alike. Whatever was alive before the program
started, and what our code hashes first, keeps its address hash. The recording says in its
header that it ran so (older recordings did not, and replay without it);
``RETRACE_STABLE_HASHES=0`` records without.

Each thread numbers its own objects (:data:`PER_THREAD_KEY`): the main thread 1, 2, 3...,
the program's k-th thread (its logical number on the tape) ``k << 32`` plus 1, 2, 3...
(:func:`thread_begins`, called as it starts, in both modes). The code between two events
of a thread runs in another interleaving with the other threads' when replayed, so with one
counter for all, a thread's objects got other numbers than recorded (trio's events wake
their waiters in the order of a set of tasks). Recordings made before replay with one.
"""
from __future__ import annotations

import gc
import os
import sys

from retrace_core.ours import OUR_PREFIXES

HEADER_KEY = "stable_hashes"
PER_THREAD_KEY = "hashes_per_thread"  # recordings from 2026-12-07 on
SETTING = "RETRACE_STABLE_HASHES"


def wanted() -> bool:
    """Does a new recording run with them?"""
    return os.environ.get(SETTING, "1") != "0"


def begin(per_thread: bool) -> None:
    """Right before the program's first line, in both modes (bootstrap/launch.py)."""
    from retrace_core._engine import ffi, lib
    from retrace_core.boundary.guard import guard

    alive = gc.get_objects()
    prefixes = tuple(OUR_PREFIXES)
    if lib.rt_hashes_install(ffi.cast("void *", id(guard)), ffi.cast("void *", id(prefixes)),
                             ffi.cast("void *", id(alive))) < 0:
        # Never the program's problem: its objects keep their address hashes (a replay that
        # depends on their order may then diverge, as without this).
        sys.stderr.write("retrace: warning: no memory for the table of hashes; objects keep their address hashes\n")
        return
    lib.rt_hashes_program_begins(1 if per_thread else 0)


def thread_begins(logical: int) -> None:
    """The program's thread ``logical`` begins (in it, before its first line): its objects
    take numbers of its own series. (Nothing while hashes are not installed.)"""
    from retrace_core._engine import lib

    lib.rt_hashes_thread_begins(logical)
