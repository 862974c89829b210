"""The harness of the tracer tests (test_tracer.py, test_tracer_steps.py): small real
programs, run in this process under the C tracer and the Python reference alike.

Every scenario runs a small real program (exec'd in this process, compiled with a
filename outside the excluded prefixes) under both tracers and compares what a user of
the engine sees: the final position and the sequence of stops (reason, position,
filename, line, depth).
"""
from __future__ import annotations

import gc
import os
import sys
import sysconfig
import textwrap
import threading
import types
from dataclasses import dataclass, field
from typing import Callable

import retrace_core
from retrace_core.trace.ctracer import MONITORING, CTracer, SettraceCTracer
from retrace_core.trace.pytracer import PyTracer


def _running_frames():
    frame = sys._getframe()
    while frame is not None:
        yield frame
        frame = frame.f_back


OWN_CODE = os.path.dirname(os.path.abspath(retrace_core.__file__)) + os.sep
TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# The stack below exec() (pytest, this file, the standard library's runpy) is not the
# program: excluded, the programs' module level is at depth 1 and starts at position 1.
EXCLUDED = (OWN_CODE, TESTS, "<frozen ") + tuple(sorted({
    function(sysconfig.get_path(name)) + os.sep
    for name in ("stdlib", "platstdlib", "purelib", "platlib") for function in (os.path.abspath, os.path.realpath)}))
# And whatever runs this harness, which is on the stack now: under pytest-xdist, execnet's
# worker runs from code it compiled from strings ("<string>"), under no excluded folder.
EXCLUDED += tuple(sorted({frame.f_code.co_filename for frame in _running_frames()
                          if not frame.f_code.co_filename.startswith(EXCLUDED)}))
PROGRAM = "/virtual/program.py"
# On 3.12+ the C tracer's events come from sys.monitoring; its trace function is kept
# (3.11's tracer) and all of them must agree with the Python reference.
TRACERS = {"C": CTracer, "Python": PyTracer, **({"C settrace": SettraceCTracer} if MONITORING else {})}


@dataclass
class Outcome:
    position: int
    stops: list = field(default_factory=list)  # (reason, position, filename, line, depth)
    last_hit: int | None = None
    error: str | None = None  # the exception that left the program, if any
    extra: dict = field(default_factory=dict)


React = Callable[[object, str, types.FrameType], None]


def virtual_module(name: str, source: str) -> types.ModuleType:
    """A module whose code says it lives in /virtual/NAME.py (program code)."""
    module = types.ModuleType(name)
    module.__file__ = f"/virtual/{name}.py"
    exec(compile(textwrap.dedent(source), module.__file__, "exec"), module.__dict__)
    return module


def run(tracer_class, source: str, *, setup: Callable | None = None, react: React | None = None,
        names: dict | None = None, excluded: tuple = EXCLUDED, start_in_program: bool = False,
        ours: tuple = ()) -> Outcome:
    """Run SOURCE as PROGRAM under a new tracer; `setup(tracer)` sets the conditions and
    `react(tracer, reason, frame)` runs in on_stop, after the stop is written down."""
    code = compile(textwrap.dedent(source), PROGRAM, "exec")
    outcome = Outcome(0)

    def on_stop(reason: str, frame: types.FrameType) -> None:
        outcome.stops.append((reason, tracer.position, frame.f_code.co_filename, frame.f_lineno,
                              tracer.depth(threading.get_ident())))
        if react is not None:
            react(tracer, reason, frame)

    tracer = tracer_class(excluded, on_stop, (), ours)
    if setup is not None:
        setup(tracer)
    namespace = {"__name__": "__main__", "begin": tracer.start, "tracer": tracer, **(names or {})}
    # A collection in the middle could run finalizers at different points under the two
    # tracers (they allocate differently); the programs here make no garbage cycles.
    gc.collect()
    gc.disable()
    try:
        if not start_in_program:
            tracer.start()
        try:
            exec(code, namespace)
        finally:
            tracer.stop()
    except Exception as exc:  # noqa: BLE001 - the program's own exception is part of the outcome
        outcome.error = f"{type(exc).__name__}: {exc}"
    finally:
        gc.enable()
    outcome.position = tracer.position
    outcome.last_hit = tracer.last_hit
    outcome.extra = {key: value for key, value in namespace.items() if key.startswith("seen_")}
    return outcome


def run_both(source: str, **options) -> Outcome:
    """Run under every tracer; they must agree on everything. Returns the outcome."""
    outcomes = {name: run(tracer_class, source, **options) for name, tracer_class in TRACERS.items()}
    for name, outcome in outcomes.items():
        assert (name, outcome) == (name, outcomes["C"])
    return outcomes["C"]


# ---- programs ----

RECURSION = """
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

total = fib(5)
done = True
"""

GENERATORS = """
def numbers(limit):
    i = 0
    while i < limit:
        yield i
        i += 1
    return "end"

def squares():
    result = yield from numbers(3)
    yield result

collected = [value for value in squares()]
pairs = list(zip(numbers(2), (n * 2 for n in range(2))))
g = numbers(5)
first = next(g)
g.close()
"""

EXCEPTIONS = """
def inner(n):
    if n == 0:
        raise ValueError("zero")
    return inner(n - 1)

def outer():
    try:
        inner(2)
    except ValueError as error:
        caught = str(error)
    finally:
        cleanup = 1
    return caught

def swallow():
    for attempt in range(2):
        try:
            {}["missing"]
        except KeyError:
            continue
    return attempt

result = outer()
tries = swallow()
try:
    [1 / x for x in (1, 0)]
except ZeroDivisionError:
    handled = True
"""

COMPREHENSIONS = """
def double(x):
    return x * 2

values = [double(i) for i in range(3)]
table = {i: [j for j in range(i)] for i in range(3)}
flat = {v for row in table.values() for v in row}
total = sum(double(i) for i in range(2))
key = sorted(values, key=lambda v: -v)
"""

CLASSES_AND_CONTEXTS = """
class Box:
    count = 0

    def __init__(self, value):
        self.value = value

    @property
    def doubled(self):
        return self.value * 2

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        Box.count += 1
        return False

def decorate(fn):
    def wrapper(*args):
        return fn(*args) + 1
    return wrapper

@decorate
def add(a, b):
    return a + b

with Box(3) as box:
    got = box.doubled + add(1, 2)

async def coro(n):
    return n * 3

c = coro(2)
try:
    c.send(None)
except StopIteration as stop:
    result = stop.value
"""

PROGRAMS = {"recursion": RECURSION, "generators": GENERATORS, "exceptions": EXCEPTIONS,
            "comprehensions": COMPREHENSIONS, "classes": CLASSES_AND_CONTEXTS}


# ---- positions ----
