"""The engine's tracer is not the program's.

Under the engine, ``sys.gettrace()`` would return the engine's tracer where the recorded
run saw ``None``, and programs branch on it: pytest-benchmark calls ``sys.settrace(None)``
around its timer calibration when a tracer is set, coverage and debuggers check it too.
The replay then took another path than the recording ("the tape expected time.time(),
the program asked for os.dup2"), and the program's ``settrace(None)`` switched the
engine's line tracing off. So in an engine replay ``sys.settrace``/``sys.gettrace`` keep
the program's own tracer apart, per thread as CPython does, and never touch the engine's.

A tracer the program installs with ``sys.settrace`` does not run in the replay (the
engine's holds the slot): a program whose behaviour depends on what it does replays
differently. A C trace function the program sets (coverage's, through ``PyEval_SetTrace``)
does run: on 3.12+ beside the engine's ``sys.monitoring`` tool, on 3.11 called on by the
engine's trace function, which takes the slot back at the next event (csrc/tracer.c).

On 3.12+ the engine's tracer is a ``sys.monitoring`` tool (csrc/monitor.c) holding the
highest free tool id; ``sys.monitoring.get_tool`` says that id is free, as the recorded run
saw it. A program that asks for that very id (``use_tool_id``) is refused in the replay
and not in the recording: the replay then reports a divergence.
"""
from __future__ import annotations

import sys
from _thread import get_ident

real_settrace = sys.settrace
real_gettrace = sys.gettrace


def hide_engine_tracer() -> None:
    """Give the program its own ``sys.settrace``/``sys.gettrace`` from here on."""
    from retrace_core.boundary.wrappers import copy_identity

    program_tracers: dict[int, object] = {}

    def settrace(function):
        if function is None:
            program_tracers.pop(get_ident(), None)
        else:
            program_tracers[get_ident()] = function

    def gettrace():
        return program_tracers.get(get_ident())

    sys.settrace = copy_identity(settrace, real_settrace)
    sys.gettrace = copy_identity(gettrace, real_gettrace)
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None:
        from retrace_core._engine import lib

        real_get_tool = monitoring.get_tool

        def get_tool(tool_id):
            return None if tool_id == lib.rt_tracer_tool_id() and tool_id >= 0 else real_get_tool(tool_id)

        monitoring.get_tool = copy_identity(get_tool, real_get_tool)
