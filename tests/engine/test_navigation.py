"""Every verb of the engine agrees with plain forward stepping, on several kinds of program.

The ground truth is the run stepped one line at a time from the start; each verb is then
asked from random positions and must land where that walk says it should.
"""
import os
import random
import signal
import textwrap

import pytest

from conftest import record_with_stdout, verify
from retrace_core.boundary.fingerprints import without_addresses
from retrace_core.control.session import Session
from retrace_core.trace.ctracer import MONITORING

PROGRAMS = {
    "exceptions and generators": """
        def numbers(limit):
            for value in range(limit):
                if value % 3 == 0:
                    yield value

        def risky(value):
            if value == 6:
                raise ValueError(value)
            return value * 2

        results = []
        for value in numbers(12):
            try:
                results.append(risky(value))
            except ValueError as error:
                results.append(-1)
        print(results)
    """,
    "files and clocks": """
        import json, os, time

        def save(path, data):
            with open(path, "w") as handle:
                json.dump(data, handle)

        def load(path):
            with open(path) as handle:
                return json.load(handle)

        records = []
        for index in range(5):
            records.append({"index": index, "at": time.time()})
            save("data.json", records)
            assert load("data.json")[-1]["index"] == index
        os.remove("data.json")
        print(len(records))
    """,
    "classes and recursion": """
        class Node:
            def __init__(self, value, children=()):
                self.value = value
                self.children = list(children)

            def total(self):
                subtotal = self.value
                for child in self.children:
                    subtotal += child.total()
                return subtotal

        def build(depth):
            if depth == 0:
                return Node(1)
            return Node(depth, [build(depth - 1) for _ in range(2)])

        tree = build(3)
        print(tree.total(), sorted([3, 1, 2], key=lambda item: -item))
    """,
    # random reseeds its generator in a forked child, and every snapshot is a fork; the
    # prints go out at other moments to a pipe, a file and a terminal.
    "randomness and output": """
        import random

        def work(n):
            total = 0
            for i in range(n):
                total += i
            return total

        draws = []
        for round in range(4):
            work(12)
            x = random.random()
            draws.append(x)
            print("x", x)
        print("pick", random.randint(1, 1000))
    """,
}
# Where the program's stdout goes while it is recorded: each program to a pipe, and the
# one whose output is its values to a file and a terminal too.
RUNS = [(name, "pipe") for name in sorted(PROGRAMS)] + [
    ("randomness and output", "file"), ("randomness and output", "terminal")]
# Every tracer walks and moves: the engine's ("c": over sys.monitoring on 3.12+), its trace
# function where that is another ("settrace"), and the Python reference.
TRACERS = ["c", "python"] + (["settrace"] if MONITORING else [])


# One recording, session and walk per run and tracer, which every verb's test below uses in
# turn (each test starts with a move of its own): recorded and walked once per test instead,
# this module took a third of the suite's time.
@pytest.fixture(scope="module", params=[(*run, tracer) for run in RUNS for tracer in TRACERS],
                ids=lambda run: f"{run[0].replace(' ', '-')}-to-a-{run[1]}-{run[2]}")
def walked_run(request, tmp_path_factory):
    """A recording, and the run walked one step at a time: position -> (file, line, function, depth)."""
    program, stdout, tracer = request.param
    tmp_path = tmp_path_factory.mktemp("walked")
    (tmp_path / "program.py").write_text(textwrap.dedent(PROGRAMS[program]))
    run = record_with_stdout(tmp_path, "program.py", stdout)
    assert run.status == 0, run.stderr
    assert verify(run.path).status == 0
    session = Session(str(run.path), tracer=tracer)
    walk = walk_of(session)
    yield session, walk
    session.close()


@pytest.fixture
def walked(walked_run):
    """The shared session, with no breakpoint left by the test before (one that failed)."""
    session, walk = walked_run
    for file, line, _condition in list(session.breakpoints):
        session.clear_breakpoint(file, line)
    return session, walk


def walk_of(session):
    walk = {}
    stop = session.goto(1)
    while not stop.finished:
        walk[stop.position] = (stop.file, stop.line, stop.function, stop.depth)
        stop = session.step_into()
    assert sorted(walk) == list(range(1, session.index.end + 1))
    return walk


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_every_tracer_walks_the_same_run(program, tmp_path, write_program):
    write_program(PROGRAMS[program])
    run = record_with_stdout(tmp_path, "program.py", "pipe")
    walks = {}
    for tracer in TRACERS:
        with Session(str(run.path), tracer=tracer) as session:
            walks[tracer] = walk_of(session)
    assert all(walk == walks["c"] for walk in walks.values()) and len(walks["c"]) > 20


def at(stop):
    return stop.file, stop.line, stop.function, stop.depth


def test_goto_and_back_into_land_where_stepping_does(walked):
    session, walk = walked
    for position in random.Random(1).sample(sorted(walk), min(15, len(walk))):
        assert at(session.goto(position)) == walk[position]
        if position > 1:
            assert at(session.back_into()) == walk[position - 1]
            assert session.stop.position == position - 1


def expected_back(walk, position):
    """gdb's reverse-next: the last earlier line at this depth or shallower."""
    depth = walk[position][3]
    earlier = [p for p in walk if p < position and walk[p][3] <= depth]
    return max(earlier) if earlier else 1


def expected_next(walk, position):
    depth = walk[position][3]
    later = [p for p in walk if p > position and walk[p][3] <= depth]
    return min(later) if later else None


def test_back_next_and_finish_agree_with_the_walk(walked):
    session, walk = walked
    for position in random.Random(2).sample(sorted(walk), min(12, len(walk))):
        session.goto(position)
        assert session.back().position == expected_back(walk, position)
        session.goto(position)
        stop = session.next()
        assert (stop.position if not stop.finished else None) == expected_next(walk, position)
        session.goto(position)
        depth = walk[position][3]
        returned = [p for p in walk if p > position and walk[p][3] < depth]
        stop = session.finish()
        assert (stop.position if not stop.finished else None) == (min(returned) if returned else None)
        session.goto(position)
        earlier = [p for p in walk if p < position and walk[p][3] < depth]
        assert session.back_finish().position == (max(earlier) if earlier else 1)


def test_breakpoints_both_ways(walked):
    session, walk = walked
    lines = sorted({(file, line) for file, line, _f, _d in walk.values()})
    file, line = random.Random(3).choice([spot for spot in lines
                                          if sum(1 for w in walk.values() if w[:2] == spot) >= 2])
    hits = [p for p in sorted(walk) if walk[p][:2] == (file, line)]
    session.set_breakpoint(file, line)
    for position in random.Random(4).sample(sorted(walk), min(10, len(walk))):
        session.goto(position)
        stop = session.continue_()
        later = [h for h in hits if h > position]
        assert (stop.position if not stop.finished else None) == (later[0] if later else None)
        session.goto(position)
        earlier = [h for h in hits if h < position]
        assert session.reverse_continue().position == (earlier[-1] if earlier else 1)


def test_continue_and_reverse_continue_stop_at_every_hit_of_a_line(walked):
    """A continue goes over the line map (the stretches between events where the line ran,
    each reached untraced): a hit on the last line before an event, where a run to that
    stretch's end stops, is a hit too, and so is each of a line that runs in every stretch."""
    session, walk = walked
    lines = sorted({(file, line) for file, line, _f, _d in walk.values()})
    for number, (file, line) in enumerate(random.Random(5).sample(lines, min(5, len(lines)))):
        hits = [p for p in sorted(walk) if walk[p][:2] == (file, line)]
        # Every other line with a condition that always holds: decided in Python, not in C.
        session.set_breakpoint(file, line, "True" if number % 2 else None)
        session.goto(1)
        forward = [1] if walk[1][:2] == (file, line) else []
        while not (stop := session.continue_()).finished:
            assert stop.reason == "breakpoint" and (stop.file, stop.line) == (file, line)
            forward.append(stop.position)
        backward = [session.reverse_continue().position for _ in hits]
        session.clear_breakpoint(file, line)
        assert forward == hits
        assert backward == list(reversed(hits))  # from the end of the run


def test_locals_at_a_position_do_not_depend_on_the_way_there(walked):
    session, walk = walked
    position = sorted(walk)[len(walk) * 2 // 3]
    session.goto(1)
    while session.stop.position < position:
        session.step_into()
    stepped = session.state()
    session.goto(len(walk))
    jumped = (session.goto(position), session.state())[1]
    for frame in (stepped, jumped):
        for described in frame["frames"]:
            for local in described.get("locals", []):
                local["repr"] = without_addresses(local["repr"].encode())
    assert stepped["frames"] == jumped["frames"]


def test_a_killed_worker_is_replaced_from_a_snapshot(walked):
    session, walk = walked
    position = sorted(walk)[len(walk) // 2]
    session.goto(position)
    os.kill(session.worker.pid, signal.SIGKILL)
    stop = session.step_into()
    assert at(stop) == walk[position + 1]
