"""A logpoint sees its line's runs untraced (control/sightings.py): each run it lists must be
the run a logpoint traced all the way lists (`positions=True`), with the same value and
event, and going to it must land at the position the traced logpoint gave it, on the line,
with the frame's values of that run. Also where the program does what a sighting could
miss: runs of the line during a garbage collection's finalizers (not positions, so not
runs), a trace function of the program's own set in the middle (3.11's one slot), and a
loop on one line.
"""
import random

import pytest

from retrace_core.control.session import Session

LOOPS = """
import gc, sys, time

def logged(i):
    square = i * i
    return square

class Cycle:
    def __init__(self, i):
        self.me, self.i = self, i
    def __del__(self):
        logged(-self.i)

def busy(rounds):
    total = 0
    for i in range(rounds):
        total += (i * i + 7) % 13
        if i % 50 == 0:
            logged(i)
        if i % 120 == 0:
            time.time()
    return total

busy(600)
for i in range(3):
    Cycle(i)
gc.collect()
if len(sys.argv) > 1:
    sys.settrace(lambda *args: None)
busy(300)
if len(sys.argv) > 1:
    sys.settrace(None)
k = 0
while k < 40: k += 1; logged(k) if k % 13 == 0 else None
time.time()
print("done", k)
"""


def lines_of(text: str) -> dict[str, int]:
    return {line.strip(): number for number, line in enumerate(text.splitlines(), 1)}


@pytest.mark.parametrize("own_tracer", [False, True], ids=["plain", "own-trace-function"])
def test_every_run_seen_untraced_is_the_run_a_traced_logpoint_lists(tmp_path, record, own_tracer):
    program = tmp_path / "loops.py"
    program.write_text(LOOPS)
    run = record(str(program), *(["own"] if own_tracer else []))
    assert run.status == 0, run.stderr
    lines = lines_of(LOOPS)
    with Session(str(run.path)) as session:
        for line, expression in [(lines["square = i * i"], "i"), (lines["total += (i * i + 7) % 13"], "total"),
                                 (lines["while k < 40: k += 1; logged(k) if k % 13 == 0 else None"], "k")]:
            seen = session.logpoint(str(program), line, expression)
            wanted = session.logpoint(str(program), line, expression, positions=True)
            assert [(r["line"], r["event"], r["value"]) for r in seen] == \
                [(r["line"], r["event"], r["value"]) for r in wanted], line
            if line == lines["square = i * i"]:
                # The finalizers' runs ran inside a garbage collection: not positions, not runs.
                assert [r["value"] for r in seen] == [str(i) for i in range(0, 600, 50)] + \
                    [str(i) for i in range(0, 300, 50)] + ["13", "26", "39"]
            if not own_tracer:  # all seen untraced; with the program's own tracer, some are traced
                assert all(r["at"] is not None for r in seen)
            # Finding a run's position is two moves: checked for a sample of the runs (of 900 in the loop).
            checked = sorted(random.Random(line).sample(range(len(seen)), min(len(seen), 24)))
            assert [session.position_of(seen[n]) for n in checked] == [wanted[n]["position"] for n in checked]
            for n in (0, len(seen) // 2, -1):
                r = seen[n]
                stop = session.goto_run(dict(r, position=None) if r["at"] else r)  # found again, or known
                assert (stop.position, stop.line) == (wanted[n]["position"], line)
                assert stop.reason == "breakpoint" or r["at"] is None
                assert session.evaluate(expression)["repr"] == r["value"]


STARTED_IN_THE_STRETCH = """
import time

def logged(i):
    return i * i

def work(n):
    total = 0
    for i in range(n):
        total += i
        if i == 10:
            logged(i)
        if i % 20 == 19:
            time.time()
    return total

time.time()
total = work(200)
print("end", total)
"""


RESUMED_AFTER_THE_STRETCH = """
import time

def logged(i):
    return i * i

def numbers(n):
    for i in range(n):
        if i == 10:
            logged(i)
        yield i

time.time()
made = numbers(300)
firsts = [next(made) for _ in range(20)]
time.time()
rest = 0
for value in made:
    rest += value
print("end", rest)
"""


@pytest.mark.parametrize("source, name", [(STARTED_IN_THE_STRETCH, "total"), (RESUMED_AFTER_THE_STRETCH, "rest")],
                         ids=["a frame on the stack", "a generator resumed after"])
def test_a_frame_that_began_while_sighting_is_counted_after_it(tmp_path, record, source, name):
    """On 3.11 a sighting's trace function asks for no line events in frames without the
    line. ``work`` begins during the sighting and runs on after it (on the stack when it
    ends); ``numbers``, a generator, begins during it and is resumed after it: their lines
    must count again once the tracer is back, or every position after the logpoint is off."""
    program = tmp_path / "program.py"
    program.write_text(source)
    run = record(str(program))
    assert run.status == 0, run.stderr
    lines = lines_of(source)
    end_line = lines[f'print("end", {name})']
    with Session(str(run.path)) as session:
        printed = session.logpoint(str(program), end_line, name, positions=True)[0]
        here = session.goto(printed["position"])
        assert here.line == end_line
        runs = session.logpoint(str(program), lines["return i * i"], "i")
        assert [r["value"] for r in runs] == ["10"]
        # The logpoint leaves the session where it stood: the worker it ran in went on from
        # the sighting's end to here, counting those frames' lines again.
        assert (session.stop.position, session.stop.line) == (here.position, here.line)
        expected = sum(range(200)) if name == "total" else sum(range(20, 300))
        assert session.evaluate(name)["repr"] == str(expected)


MADE_AND_STARTED_ON_ONE_LINE = """
import time

def price(item):
    return {"apple": 3, "pear": 4}.get(item, 0) + int(time.time()) % 1

def total(items):
    return sum(price(item) for item in items)

time.time()
print(total(["apple", "pear", "plum"]), total(["pear"]))
"""


def test_a_generator_expression_on_the_line_is_a_run_of_it(tmp_path, record):
    """The line runs once in ``total``'s frame, then in the generator's as it starts, and
    again each time the generator is resumed for the next item: 5 runs, then 3. Over 3.13's
    sys.monitoring a sighting (LINE and JUMP events only) was not told of the start, so the
    logpoint listed 4 and 2 (the traced one 5 and 3)."""
    program = tmp_path / "program.py"
    program.write_text(MADE_AND_STARTED_ON_ONE_LINE)
    run = record(str(program))
    assert run.status == 0, run.stderr
    line = lines_of(MADE_AND_STARTED_ON_ONE_LINE)["return sum(price(item) for item in items)"]
    with Session(str(run.path)) as session:
        seen = session.logpoint(str(program), line, "item")
        wanted = session.logpoint(str(program), line, "item", positions=True)
        assert [r["value"] for r in seen] == ["<not set>"] * 2 + ["'apple'", "'pear'", "'plum'"] + \
            ["<not set>"] * 2 + ["'pear'"]
        assert [(r["event"], r["value"]) for r in seen] == [(r["event"], r["value"]) for r in wanted]
        assert [session.position_of(r) for r in seen] == [r["position"] for r in wanted]
