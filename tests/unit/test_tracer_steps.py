"""The C tracer agrees with the Python reference, event for event: steps, exception stops, remembered hits, threads, forks and the code our code calls.

The programs and the harness are in tracer_harness.py. Some scenarios also pin absolute
numbers, so that both tracers cannot be wrong the same way.
"""
from __future__ import annotations

import os
import textwrap
import threading

import pytest

from .tracer_harness import EXCEPTIONS, EXCLUDED, PROGRAM, PROGRAMS, RECURSION, TRACERS, run, run_both, virtual_module

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
    assert len(set(seen.values())) == 1 and seen["CTracer"] is not None and seen["CTracer"] < 12
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
    outcomes = {name: outcome(tracer_class) for name, tracer_class in TRACERS.items()}
    c_outcome = outcomes["C"]
    assert all(other == c_outcome for other in outcomes.values())
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
    assert all(other == results["C"] for other in results.values())
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
    assert all(other.position == outcomes[0].position and other.stops == outcomes[0].stops for other in outcomes)
    assert len(outcomes[0].stops) == 3
