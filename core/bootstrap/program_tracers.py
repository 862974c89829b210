"""The program's own tracers are not called for our code.

Renaming our code (hidden_code.py) keeps off the disk the tracers that leave code from no
file alone, as coverage does. A tracer that looks each new file up before it asks
whether the file is real still looked ours up: hypothesis, explaining a failing test on
3.12+, registers a ``sys.monitoring`` callback for line events whose first question is
``Path(name).resolve()``. sys.monitoring reaches every thread and every code object:
recorded, the callback looked up the tape writer's code, in the main thread and in the
tape's flusher thread (events of a thread the program never had); replayed, the player's,
at other moments: "the tape expected os.lstat('<retrace>') in thread 1, the program
asked for os.lstat('/tmp')".

A plain run has no code of ours for a tracer to see; now neither does a recorded or
replayed one. The program's tracers are installed wrapped, in both modes:

- ``sys.monitoring.register_callback``: for an event in code of ours the wrapper answers
  DISABLE (where the event allows it; else None) without calling the program's callback,
  so the place is not reported to that tool again; ``register_callback`` gives back the
  program's own previous callback.
- ``sys.settrace`` (and so ``threading.settrace``), ``sys.setprofile``, and 3.12's
  ``sys._settraceallthreads``/``_setprofileallthreads``: a frame of ours is not traced (its
  call event answers None) and no profile event of a frame of ours is passed on;
  ``sys.gettrace``/``getprofile`` give back the program's function.

Each stand-in is a real built-in (``wrappers.module_function``): a profiler sees the
program's ``sys.setprofile(None)`` as the call of a C function, as it does unrecorded
(greenlet's tests compare the events they get).

The engine's own tool and tracer do not go through these (csrc/monitor.c registers with
its tool id, let through; the engine's trace function is set from C).
"""
from __future__ import annotations

import os
import sys
from _thread import get_ident

from retrace_core.boundary.wrappers import copy_identity, module_function
from retrace_core.ours import HIDDEN_FOLDER, OUR_THREADS

_getframe = sys._getframe
_STDLIB = (os.path.dirname(os.__file__) + os.sep, "<frozen ")
_SITE_PACKAGES = tuple(os.path.join(os.path.dirname(os.__file__), name) for name in ("site-packages", "dist-packages"))

# sys.monitoring events a callback may answer DISABLE to (the "local" ones).
_DISABLEABLE = ("PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "CALL", "LINE", "INSTRUCTION",
                "JUMP", "BRANCH", "BRANCH_LEFT", "BRANCH_RIGHT", "STOP_ITERATION")


def install() -> None:
    """Wrap the program's tracers from now on (call once our code is hidden)."""
    _wrap_trace_functions()
    if getattr(sys, "monitoring", None) is not None:
        _wrap_monitoring_callbacks(sys.monitoring)


def _ours(code) -> bool:
    """Code of ours, or any code run in a thread of ours (the tape's flusher)."""
    return code.co_filename.startswith(HIDDEN_FOLDER) or bool(OUR_THREADS) and get_ident() in OUR_THREADS


def _stdlib(code) -> bool:
    return code.co_filename.startswith(_STDLIB) and not code.co_filename.startswith(_SITE_PACKAGES)


def _run_by_ours(frame) -> bool:
    """Whether ``frame`` is ours, or the standard library's called (through more of it) by
    ours: ``isinstance`` with an ABC in a wrapper of ours runs abc.py's ``__instancecheck__``,
    and the player's wrappers run other such code than the recorder's. A profiler that
    read the clock for each call it saw made other clock events replayed than recorded
    ("the tape expected time.perf_counter(), the program asked for file.tell(4)").
    Code of the program's that ours calls (a key function, a finalizer) is the program's."""
    while frame is not None:
        code = frame.f_code
        if _ours(code):
            return True
        if not _stdlib(code):
            return False
        frame = frame.f_back
    return False


def _wrap_trace_functions() -> None:
    def skipping_our_calls(function):
        def trace(frame, event, arg):
            if event == "call" and _run_by_ours(frame):
                return None
            return function(frame, event, arg)
        trace.program_function = function
        return trace

    def skipping_our_events(function):
        def profile(frame, event, arg):
            if _run_by_ours(frame):
                return None
            return function(frame, event, arg)
        profile.program_function = function
        return profile

    for setter, getter, wrap in (("settrace", "gettrace", skipping_our_calls),
                                 ("setprofile", "getprofile", skipping_our_events)):
        _wrap_setter(setter, wrap)
        _wrap_setter(f"_{setter}allthreads", wrap)
        real_get = getattr(sys, getter)

        def get(real_get=real_get):
            function = real_get()
            return getattr(function, "program_function", function)

        setattr(sys, getter, module_function(copy_identity(get, real_get), real_get))


def _wrap_setter(name: str, wrap) -> None:
    real = getattr(sys, name, None)
    if real is None:
        return

    def setter(function, real=real):
        return real(None if function is None else wrap(function))

    setattr(sys, name, module_function(copy_identity(setter, real), real))


def _wrap_monitoring_callbacks(monitoring) -> None:
    from retrace_core._engine import lib

    real_register = monitoring.register_callback
    disable = monitoring.DISABLE
    disableable = {getattr(monitoring.events, name) for name in _DISABLEABLE if hasattr(monitoring.events, name)}
    program_callbacks: dict[tuple[int, int], object] = {}

    def register_callback(tool_id, event, func):
        if tool_id == lib.rt_tracer_tool_id() and tool_id >= 0:
            return real_register(tool_id, event, func)  # the engine's own tool
        answer = disable if event in disableable else None

        def callback(code, *args):
            if _ours(code):
                return answer
            if _stdlib(code) and _run_by_ours(_getframe(1)):
                return None  # not DISABLE: the program's own calls of this code are its events
            return func(code, *args)

        previous_real = real_register(tool_id, event, None if func is None else callback)
        previous = program_callbacks.pop((tool_id, event), None)
        if func is not None:
            program_callbacks[(tool_id, event)] = func
        # (a tool freed since, or a callback registered before ours were wrapped)
        return previous if previous_real is not None and previous is not None else previous_real

    monitoring.register_callback = module_function(copy_identity(register_callback, real_register), real_register)
