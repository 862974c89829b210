"""The C tracer agrees with the Python reference, event for event: counting positions, targets and breakpoints.

The programs and the harness are in tracer_harness.py. Some scenarios also pin absolute
numbers, so that both tracers cannot be wrong the same way.
"""
from __future__ import annotations

import importlib.util
import os
import textwrap

import pytest

from .tracer_harness import EXCLUDED, GENERATORS, PROGRAM, PROGRAMS, RECURSION, run_both, virtual_module


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
