"""The C tracer agrees with the Python reference, event for event.

Every scenario runs a small real program (exec'd in this process, compiled with a
filename outside the excluded prefixes) under both tracers and compares what a user of
the engine sees: the final position and the sequence of stops (reason, position,
filename, line, depth). Some scenarios also pin absolute numbers, so that both cannot be
wrong the same way.
"""
from __future__ import annotations

import gc
import importlib.util
import os
import sysconfig
import textwrap
import threading
import types
from dataclasses import dataclass, field
from typing import Callable

import pytest

import retrace_core
from retrace_core.trace.ctracer import CTracer
from retrace_core.trace.pytracer import PyTracer

OWN_CODE = os.path.dirname(os.path.abspath(retrace_core.__file__)) + os.sep
TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# The stack below exec() (pytest, this file, the standard library's runpy) is not the
# program: excluded, the programs' module level is at depth 1 and starts at position 1.
EXCLUDED = (OWN_CODE, TESTS, "<frozen ") + tuple(sorted({
    function(sysconfig.get_path(name)) + os.sep
    for name in ("stdlib", "platstdlib", "purelib", "platlib") for function in (os.path.abspath, os.path.realpath)}))
PROGRAM = "/virtual/program.py"
TRACERS = {"C": CTracer, "Python": PyTracer}


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
    """Run under both tracers; they must agree on everything. Returns the outcome."""
    c_outcome = run(CTracer, source, **options)
    py_outcome = run(PyTracer, source, **options)
    assert c_outcome == py_outcome
    return c_outcome


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

def test_position_counts_line_events_of_program_code():
    outcome = run_both("a = 1\nfor i in range(3):\n    b = i\n")
    # line 1; then the for line and the body three times, and the for line once more
    assert outcome.position == 8
    assert outcome.stops == []


@pytest.mark.parametrize("name", PROGRAMS)
def test_both_tracers_count_the_same(name):
    outcome = run_both(PROGRAMS[name])
    assert outcome.position > 10
    assert outcome.error is None


def test_excluded_module_adds_no_positions(tmp_path):
    library = tmp_path / "excluded" / "lib.py"
    library.parent.mkdir()
    library.write_text(textwrap.dedent("""
        def spin(n):
            total = 0
            for i in range(n):
                total += i
            return total

        def call(callback):
            spin(10)
            return callback()
    """))
    spec = importlib.util.spec_from_file_location("retrace_test_excluded_lib", library)
    lib = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lib)
    excluded = EXCLUDED + (str(library.parent) + os.sep,)
    source = """
        def callback():
            x = 1
            return x

        lib.spin(1000)
        value = lib.call(callback)
    """
    outcome = run_both(source, names={"lib": lib}, excluded=excluded,
                       setup=lambda tracer: tracer.set_breakpoints([(PROGRAM, 3)]))
    # the def, the two calls, the callback's two lines; nothing from lib.py
    assert outcome.position == 5
    # at x = 1 the stack holds the module and callback (lib.call does not count)
    assert outcome.stops == [("breakpoint", 4, PROGRAM, 3, 2)]
    # the same library counted as program code adds its lines
    assert run_both(source, names={"lib": lib}).position > 1000


def test_on_stop_is_not_traced_or_counted():
    helper = virtual_module("helper", """
        def busy():
            total = 0
            for i in range(100):
                total += i
            return total
    """)
    quiet = run_both(RECURSION, setup=lambda tracer: tracer.set_target(5))
    busy = run_both(RECURSION, setup=lambda tracer: tracer.set_target(5),
                    react=lambda tracer, reason, frame: helper.busy())
    assert busy == quiet
    assert [stop[:2] for stop in busy.stops] == [("target", 5)]


# ---- targets and breakpoints ----

def test_target_stops_there_and_can_be_moved_on():
    def next_target(tracer, reason, frame):
        tracer.set_target(tracer.position + 7)

    outcome = run_both(RECURSION, setup=lambda tracer: tracer.set_target(3), react=next_target)
    positions = [stop[1] for stop in outcome.stops]
    assert positions == list(range(3, outcome.position + 1, 7))
    assert {stop[0] for stop in outcome.stops} == {"target"}


def test_target_cleared_in_on_stop_stops_once():
    outcome = run_both(GENERATORS, setup=lambda tracer: tracer.set_target(10),
                       react=lambda tracer, reason, frame: tracer.set_target(None))
    assert [stop[:2] for stop in outcome.stops] == [("target", 10)]


def test_breakpoints_in_program_and_in_another_module():
    helper = virtual_module("helper", """
        def scale(values):
            out = []
            for v in values:
                out.append(v * 3)
            return out
    """)
    source = """
        data = [1, 2]
        for round in range(2):
            data = helper.scale(data)
        last = data[-1]
    """
    outcome = run_both(source, names={"helper": helper},
                       setup=lambda tracer: tracer.set_breakpoints([("/virtual/helper.py", 5), (PROGRAM, 5)]))
    lines = [(stop[0], stop[2], stop[3], stop[4]) for stop in outcome.stops]
    assert lines == [("breakpoint", "/virtual/helper.py", 5, 2)] * 4 + [("breakpoint", PROGRAM, 5, 1)]


def test_breakpoints_can_change_while_stopped():
    def move(tracer, reason, frame):
        tracer.set_breakpoints([] if frame.f_lineno == 5 else [(PROGRAM, 5)])

    outcome = run_both(RECURSION, setup=lambda tracer: tracer.set_breakpoints([(PROGRAM, 3)]), react=move)
    assert [stop[3] for stop in outcome.stops] == [3, 5]


def test_target_comes_before_a_breakpoint_on_the_same_line():
    first = run_both(RECURSION, setup=lambda tracer: tracer.set_breakpoints([(PROGRAM, 3)]))
    position = first.stops[1][1]
    both = run_both(RECURSION, setup=lambda tracer: (tracer.set_breakpoints([(PROGRAM, 3)]),
                                                     tracer.set_target(position)))
    assert [stop[0] for stop in both.stops] == ["breakpoint", "target"] + ["breakpoint"] * (len(first.stops) - 2)


# ---- stepping ----

def step_into(tracer, reason, frame):
    tracer.set_step(threading.get_ident(), None)


def step_over(tracer, reason, frame):
    tracer.set_step(threading.get_ident(), tracer.depth(threading.get_ident()))


def step_out(tracer, reason, frame):
    depth = tracer.depth(threading.get_ident())
    tracer.set_step(threading.get_ident(), depth - 1 if depth > 1 else None)


STEPS = {"into": step_into, "over": step_over, "out": step_out}


@pytest.mark.parametrize("mode", STEPS)
@pytest.mark.parametrize("name", PROGRAMS)
def test_stepping_agrees(name, mode):
    outcome = run_both(PROGRAMS[name], setup=lambda tracer: tracer.set_target(1), react=STEPS[mode])
    assert outcome.stops[0][:2] == ("target", 1)
    steps = outcome.stops[1:]
    assert steps and {stop[0] for stop in steps} == {"step"}
    if mode == "into":
        # every line event of the program stops
        assert [stop[1] for stop in outcome.stops] == list(range(1, outcome.position + 1))
    if mode == "over":
        assert {stop[4] for stop in outcome.stops} == {1}


def test_step_over_a_recursive_call_stays_in_the_frame():
    def over_at_depth_3(tracer, reason, frame):
        if reason == "breakpoint":
            tracer.set_breakpoints([])
        step_over(tracer, reason, frame)

    outcome = run_both(RECURSION, setup=lambda tracer: tracer.set_breakpoints([(PROGRAM, 5)]),
                       react=over_at_depth_3)
    # from fib(5)'s `return fib(n-1) + fib(n-2)` at depth 2 the next line at depth <= 2
    # is the module's next line: the whole recursion is stepped over
    assert [(stop[3], stop[4]) for stop in outcome.stops] == [(5, 2), (8, 1)]


def test_step_predicate_for_another_thread_never_stops_this_one():
    outcome = run_both(RECURSION, setup=lambda tracer: tracer.set_step(threading.get_ident() + 1, None))
    assert outcome.stops == []


# ---- exceptions ----

def test_stop_on_exception_in_every_program_frame_it_passes():
    outcome = run_both(EXCEPTIONS, setup=lambda tracer: tracer.set_stop_on_exception(True))
    lines = [(stop[0], stop[3], stop[4]) for stop in outcome.stops]
    # raised in inner(0) at depth 5, then through inner(1), inner(2) and outer
    assert lines[:4] == [("exception", 4, 5), ("exception", 5, 4), ("exception", 5, 3), ("exception", 9, 2)]
    assert ("exception", 19, 2) in lines  # {}["missing"], twice
    assert outcome.error is None


def test_exception_stops_can_be_switched_off_while_stopped():
    outcome = run_both(EXCEPTIONS, setup=lambda tracer: tracer.set_stop_on_exception(True),
                       react=lambda tracer, reason, frame: tracer.set_stop_on_exception(False))
    assert len(outcome.stops) == 1


def test_an_exception_from_on_stop_goes_into_the_program_and_ends_tracing():
    def fail(tracer, reason, frame):
        raise RuntimeError("stop here")

    outcome = run_both(RECURSION, setup=lambda tracer: tracer.set_target(6), react=fail)
    assert outcome.error == "RuntimeError: stop here"
    assert outcome.position == 6


# ---- remembering (backward moves) ----

def test_remembers_the_last_breakpoint_hit_without_stopping():
    every = run_both(RECURSION, setup=lambda tracer: tracer.set_breakpoints([(PROGRAM, 4)]))
    remembered = run_both(RECURSION, setup=lambda tracer: (tracer.set_breakpoints([(PROGRAM, 4)]),
                                                          tracer.set_remember(True, None, None)))
    assert remembered.stops == []
    assert remembered.last_hit == every.stops[-1][1]


@pytest.mark.parametrize("name", PROGRAMS)
def test_remembers_the_last_line_at_depth(name):
    ident = threading.get_ident()
    every = run_both(PROGRAMS[name], setup=lambda tracer: tracer.set_step(ident, 2))
    remembered = run_both(PROGRAMS[name], setup=lambda tracer: tracer.set_remember(False, ident, 2))
    assert remembered.stops == []
    assert remembered.last_hit == every.stops[-1][1]


def test_remembered_hit_before_a_target_and_cleared():
    seen = {}

    def record(tracer, reason, frame):
        seen[type(tracer).__name__] = tracer.last_hit
        tracer.clear_remembered()

    outcome = run_both(RECURSION, react=record,
                       setup=lambda tracer: (tracer.set_breakpoints([(PROGRAM, 3)]),
                                             tracer.set_remember(True, None, None), tracer.set_target(12)))
    assert seen["CTracer"] == seen["PyTracer"] is not None and seen["CTracer"] < 12
    assert outcome.last_hit is not None and outcome.last_hit > 12


def test_no_hit_is_none():
    outcome = run_both(RECURSION, setup=lambda tracer: tracer.set_remember(True, None, None))
    assert outcome.last_hit is None


# ---- where tracing starts, threads, fork ----

def test_start_inside_program_counts_the_frames_on_the_stack():
    source = """
        def middle():
            begin()
            here = 1
            return here

        value = middle()
        after = value
    """
    outcome = run_both(source, start_in_program=True, setup=lambda tracer: tracer.set_step(None, 2))
    assert [(stop[1], stop[3], stop[4]) for stop in outcome.stops] == [(1, 4, 2), (2, 5, 2), (3, 8, 1)]


def test_threads_share_positions_and_keep_their_own_depth():
    source = """
        import threading

        def work(n):
            begin()
            total = 0
            for i in range(n):
                total += step(i)
            seen_worker.append(tracer.depth(threading.get_ident()))

        def step(i):
            return i * 2

        threads = [threading.Thread(target=work, args=(5,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seen_main.append(tracer.depth(threading.get_ident()))
    """

    def outcome(tracer_class):
        result = run(tracer_class, source, names={"seen_worker": [], "seen_main": []},
                     setup=lambda tracer: tracer.set_step(None, 1))
        by_thread = sorted(stop[2:] for stop in result.stops)
        return result.position, by_thread, result.extra

    # the interleaving of threads may differ between runs: compare stops as a multiset
    c_outcome, py_outcome = outcome(CTracer), outcome(PyTracer)
    assert c_outcome == py_outcome
    position, stops, seen = c_outcome
    # a worker's depth counts its own frames only: work(), after begin() inside it
    assert seen == {"seen_worker": [1, 1], "seen_main": [1]}
    assert all(stop[2] == 1 for stop in stops)
    # step()'s line, 5 times in each worker, is the deepest: it never stops
    assert position >= len(stops) + 10


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_goes_on_counting_from_the_same_position():
    source = """
        import os
        reader, writer = os.pipe()
        pid = os.fork()
        total = 0
        for i in range(20):
            total += i
        if pid == 0:
            report(writer)
        os.close(writer)
        seen_child.append(os.read(reader, 100).decode())
        os.waitpid(pid, 0)
    """

    def report(writer):
        tracer = report.tracer
        os.write(writer, f"{tracer.position} {tracer.depth(threading.get_ident())}".encode())
        os._exit(0)

    results = {}
    for name, tracer_class in TRACERS.items():
        def setup(tracer):
            report.tracer = tracer
        results[name] = run(tracer_class, source, setup=setup,
                            names={"report": report, "seen_child": [], "os": os})
    assert results["C"] == results["Python"]
    child_position, child_depth = results["C"].extra["seen_child"][0].split()
    # the child counted everything up to report(writer), the parent all but that line
    assert int(child_position) == results["C"].position - 2
    assert child_depth == "1"


@pytest.mark.parametrize("kind", sorted(TRACERS))
def test_program_code_that_our_code_calls_is_not_counted(kind):
    """Lines run on our behalf (our codec building a namedtuple calls its generated
    __new__) are not positions, whatever file they are in; program code that library code
    calls (a callback from the standard library) is."""
    helper = "def call(function, value):\n    return function(value)\n"
    ours, library = virtual_module("ours_helper", helper), virtual_module("library_helper", helper)
    source = """
        def double(value):
            result = value * 2
            return result
        begin()
        a = call(double, 1)
        tracer.set_step(None, 1)
        b = double(2)
    """
    outcomes = {name: run(TRACERS[kind], source, names={"call": module.call},
                          excluded=EXCLUDED + ("/virtual/library_helper.py",), ours=("/virtual/ours_helper.py",))
                for name, module in (("ours", ours), ("library", library))}
    # double's two lines count when the library calls it, not when our code does.
    assert outcomes["ours"].position == outcomes["library"].position - 2
    # And the depth is untouched: a step at depth 1 stops at module level after `a`.
    assert [stop[3] for stop in outcomes["ours"].stops][:1] == \
        [textwrap.dedent(source).splitlines().index("b = double(2)") + 1]


def test_both_tracers_agree_on_code_our_code_calls():
    outcomes = [run(TRACERS[kind], """
        def double(value):
            return value * 2
        begin()
        for i in range(3):
            ours_call(double, i)
            double(i)
    """, names={"ours_call": virtual_module("ours_helper", "def call(f, v):\n    return f(v)\n").call},
        ours=("/virtual/ours_helper.py",), setup=lambda tracer: tracer.set_breakpoints([(PROGRAM, 3)]))
        for kind in sorted(TRACERS)]
    assert outcomes[0].position == outcomes[1].position
    assert outcomes[0].stops == outcomes[1].stops and len(outcomes[0].stops) == 3
