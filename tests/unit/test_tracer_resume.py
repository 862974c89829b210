"""The C tracer resumed after an untraced stretch (the engine's fast-forward to an event)
goes on exactly as if it had traced all along: same positions, same depths, same stops.

The reference is the same program traced from start to end; the program then runs
again with the tracer stopped in the middle of a function and resumed, two calls later,
at the position the traced run had there.
"""
from __future__ import annotations

import threading

import pytest

from retrace_core.trace.ctracer import CTracer, SettraceCTracer

from .tracer_harness import run

PROGRAM = """
def inner(n):
    total = 0
    for i in range(n):
        total += i
    return total

def middle():
    a = inner(2)
    pause()
    b = inner(3)
    c = inner(4)
    resume()
    d = inner(2)
    return a + b + c + d

result = middle()
done = True
"""
PAUSE_LINE, RESUME_LINE = 10, 13


def step_into(tracer, reason, frame):
    tracer.set_step(threading.get_ident(), None)


@pytest.mark.parametrize("tracer_class", [CTracer, SettraceCTracer])
def test_a_resumed_tracer_counts_and_steps_as_if_it_had_traced_all_along(tracer_class):
    traced = run(tracer_class, PROGRAM, setup=lambda tracer: tracer.set_target(1), react=step_into,
                 names={"pause": lambda: None, "resume": lambda: None})
    paused_at = next(stop[1] for stop in traced.stops if stop[3] == PAUSE_LINE)
    resumed_at = next(stop[1] for stop in traced.stops if stop[3] == RESUME_LINE)
    tracers = []
    resumed = run(tracer_class, PROGRAM, setup=lambda tracer: (tracers.append(tracer), tracer.set_target(1)),
                  react=step_into,
                  names={"pause": lambda: tracers[0].stop(), "resume": lambda: tracers[0].resume(resumed_at)})
    expected = [stop for stop in traced.stops if stop[1] <= paused_at or stop[1] > resumed_at]
    assert resumed.stops == expected
    assert resumed.position == traced.position
    # d = inner(2): the call line, then inner at depth 3 (its loop twice), return, module level
    assert [stop[4] for stop in expected if stop[1] > resumed_at] == [2, 3, 3, 3, 3, 3, 3, 3, 2, 1]


THROWN_INTO_WHILE_SIGHTING = """
import contextlib

def logged(i):
    return i * i

@contextlib.contextmanager
def managed():
    yield

def fails():
    with managed():
        sight()
        logged(3)
        raise ValueError("inner")

try:
    fails()
except Exception as exc:
    seen_caught = f"{type(exc).__name__}: {exc}"
seen_whole = unsight()
"""
LOGGED_LINE = THROWN_INTO_WHILE_SIGHTING.splitlines().index("    return i * i") + 1


@pytest.mark.parametrize("tracer_class", [CTracer, SettraceCTracer])
def test_an_exception_thrown_into_a_generator_while_sighting_reaches_the_program(tracer_class):
    """A sighting starts while a generator (a context manager) is suspended; leaving the
    ``with`` by an exception throws it into the generator. On 3.11 the sighting's frame
    evaluation function saw the generator resume with the exception already set, and a
    breakpoint check of ours cleared it: the program got "SystemError: error return
    without exception set" instead of its own ValueError."""
    tracers, runs = [], []

    def sight():
        tracers[0].stop()
        tracers[0].set_breakpoints([("/virtual/program.py", LOGGED_LINE)])
        assert tracers[0].sight(lambda frame: runs.append(frame.f_lineno))

    outcome = run(tracer_class, THROWN_INTO_WHILE_SIGHTING, setup=tracers.append,
                  names={"sight": sight, "unsight": lambda: tracers[0].unsight()})
    assert outcome.error is None
    assert outcome.extra == {"seen_caught": "ValueError: inner", "seen_whole": True}
    assert runs == [LOGGED_LINE]
