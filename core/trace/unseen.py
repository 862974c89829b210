"""The engine's tracer is not the program's.

Under the engine, ``sys.gettrace()`` would return the engine's tracer where the recorded
run saw ``None``, and programs branch on it: pytest-benchmark calls ``sys.settrace(None)``
around its timer calibration when a tracer is set, coverage and debuggers check it too.
The replay then took another path than the recording ("the tape expected time.time(),
the program asked for os.dup2"), and the program's ``settrace(None)`` switched the
engine's line tracing off. So in an engine replay ``sys.settrace``/``sys.gettrace`` keep
the program's own tracer apart, per thread as CPython does, and never touch the engine's.

A tracer the program installs with ``sys.settrace`` (hypothesis explaining a failing test
on 3.11, a profiler, a Python coverage tracer) runs in the replay as it ran recorded: it
decides what the program does next (hypothesis looks up the file of each code it sees).
Over a trace function (3.11), the program's tracer takes CPython's one trace slot and the
engine's takes it straight back, calling the program's on, event for event (csrc/tracer.c,
``keep_slot``); a C trace function the program sets itself (coverage's, through
``PyEval_SetTrace``) is taken back at the engine's next event. Over ``sys.monitoring``
(3.12+) the program's tracer and the engine's tool run side by side. Only the reference
tracer (``pytracer``, Python itself) keeps the program's tracer apart, unrun.

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


def hide_engine_tracer(tracer) -> None:
    """Give the program its own ``sys.settrace``/``sys.gettrace`` from here on, beside
    the engine's ``tracer``."""
    from retrace_core.boundary.wrappers import copy_identity, module_function

    def copy_identity_builtin(wrapper, original):  # a built-in, as the original is
        return module_function(copy_identity(wrapper, original), original)

    if not getattr(tracer, "monitoring", False):
        _settrace_beside(tracer, copy_identity_builtin)
    _hide_tool_id(copy_identity_builtin)


def _settrace_beside(tracer, copy_identity) -> None:
    program_tracers: dict[int, object] = {}
    keep_slot = getattr(tracer, "keep_slot", None)
    set_for_real = sys.settrace  # the program's tracers wrapped (bootstrap/program_tracers.py)

    def settrace(function):
        if function is None:
            program_tracers.pop(get_ident(), None)
        else:
            program_tracers[get_ident()] = function
        if keep_slot is not None:
            set_for_real(function)
            keep_slot()  # ours takes the slot back and calls the program's on

    def gettrace():
        return program_tracers.get(get_ident())

    sys.settrace = copy_identity(settrace, real_settrace)
    sys.gettrace = copy_identity(gettrace, real_gettrace)


def _hide_tool_id(copy_identity) -> None:
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None:
        from retrace_core._engine import lib

        real_get_tool = monitoring.get_tool

        def get_tool(tool_id):
            return None if tool_id == lib.rt_tracer_tool_id() and tool_id >= 0 else real_get_tool(tool_id)

        monitoring.get_tool = copy_identity(get_tool, real_get_tool)
