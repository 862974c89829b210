"""The time-travel tracer: positions (line events of program code) and stop conditions.

`ctracer.CTracer` is the engine's tracer, a thin class over csrc/tracer.c (over
sys.monitoring, csrc/monitor.c, on 3.12 and later; "settrace" keeps its trace function);
`pytracer.PyTracer` is the same interface in pure Python with `sys.settrace`, the
reference the C one must agree with. `types.Tracer` is the interface both implement.
"""
from __future__ import annotations

TRACER_KINDS = ("c", "settrace", "python")


def tracer_factory(kind: str = "c"):
    """The tracer class for KIND: "c" (the engine's), "settrace" (the engine's over a trace
    function, as on 3.11) or "python" (the reference)."""
    if kind == "c":
        from retrace_core.trace.ctracer import CTracer
        return CTracer
    if kind == "settrace":
        from retrace_core.trace.ctracer import SettraceCTracer
        return SettraceCTracer
    if kind == "python":
        from retrace_core.trace.pytracer import PyTracer
        return PyTracer
    raise ValueError(f"unknown tracer {kind!r}: one of {', '.join(TRACER_KINDS)}")

