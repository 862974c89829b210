"""Forks of a replay that the program cannot notice.

Every snapshot, every worker started from one and every inspection child is a fork of a
replay. ``posix.fork`` runs the at-fork handlers that modules registered, and some of
them change what the program sees next: ``random`` reseeds its global generator in the
child (``os.register_at_fork(after_in_child=_inst.seed)``), so a worker started from a
snapshot drew other numbers than the recording did — its next write diverged, and
``inspect``/``evaluate`` showed other values on every run. What such a handler resets is
put back here, in the child, before the program runs another line.

asyncio's C code keeps the running loop with the pid that set it, and in a forked child
answers that no loop runs (so that a child of ``os.fork`` does not use its parent's). A
snapshot taken while a test's loop ran made every move from it meet "no running event
loop" at the next ``get_running_loop()`` (aiohttp's suite); the child sets it again. From
3.12 asyncio's at-fork handler also forgets the loop ``set_event_loop`` set (the policy's
thread-local record of it): the child puts the record back.
"""
from __future__ import annotations

import posix
import sys

from retrace_core.boundary.guard import bypass


def fork_unnoticed() -> int:
    """``posix.fork`` with the at-fork handlers' boundary calls kept off the tape (logging
    takes its lock, random reads ``os.urandom``) and the state they reset restored in the
    child. Returns what fork returns."""
    # Every module is looked at with getattr: a fork may come while the program imports it,
    # and a module half-way through its import is in sys.modules with only its first
    # names (pytest's import hook runs our lines in the middle of asyncio.events' import:
    # "partially initialized module 'asyncio.events' has no attribute '_get_running_loop'").
    generator = getattr(sys.modules.get("random"), "_inst", None)
    state = generator.getstate() if hasattr(generator, "getstate") else None
    events = sys.modules.get("asyncio.events")
    get_running_loop = getattr(events, "_get_running_loop", None)
    running_loop = get_running_loop() if get_running_loop is not None else None
    policy = getattr(events, "_event_loop_policy", None)
    set_loops = getattr(policy, "_local", None)
    warnings = sys.modules.get("warnings")
    filters = getattr(warnings, "filters", None)
    if filters is not None:
        # From 3.12 fork warns when the process has other threads: a DeprecationWarning
        # the program's warning capture would take (pytest's summary then read our source
        # through the program's open, a call the tape does not have). Ignored here without
        # filterwarnings(), which would reset the program's once-only registries.
        warnings.filters = [("ignore", None, DeprecationWarning, None, 0), *filters]
    try:
        with bypass():
            pid = posix.fork()
    finally:
        if filters is not None:
            warnings.filters = filters
    if pid == 0 and state is not None:
        generator.setstate(state)
    if pid == 0 and running_loop is not None:
        events._set_running_loop(running_loop)  # (there: _get_running_loop was defined before it)
    if pid == 0 and set_loops is not None:
        policy._local = set_loops
    return pid
