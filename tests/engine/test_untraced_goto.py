"""A move runs untraced up to the last event before its target and is traced from there
(`Index.untraced_stretch`), and a reverse-continue traces only the stretches between
events in which a breakpoint's line ran (`Index.line_map`), and so does a logpoint: each must land exactly where
a move traced all the way lands, with the same stack, depth and locals, on every kind of
run.

Each recording is opened twice, once with untraced moves and once without, and the two
sessions are sent to the same positions, from the start and from where they stand.
"""
import random
import re

import pytest

from retrace_core.boundary.fingerprints import without_addresses
from retrace_core.control.session import Session
from retrace_core.tape.recording import Recording

CLOCKS_AND_CALLS = """
import json, time

def mix(i):
    return (i * 7 + 3) % 11

def work(rounds):
    state = {"total": 0, "stamps": []}
    for i in range(rounds):
        state["total"] += mix(i)
        if i % 5 == 0:
            state["stamps"].append(time.time())
    return state

def numbers(limit):
    for value in range(limit):
        yield value * time.monotonic_ns() % 3

def main():
    for round_ in range(4):
        state = work(40)
        values = list(numbers(6))
        with open("state.json", "w") as handle:
            json.dump({"total": state["total"], "values": values}, handle)
    print(state["total"])

main()
"""

THREAD_IN_THE_MIDDLE = """
import threading, time

def count(n):
    total = 0
    for i in range(n):
        total += i
        if i % 10 == 0:
            time.time()
    return total

before = count(60)
worker = threading.Thread(target=count, args=(30,))
worker.start()
worker.join()
after = count(60)
print(before + after)
"""

PYTEST_SUITE = """
import time

def price(item):
    return {"apple": 3, "pear": 4}.get(item, 0) * (1 + int(time.time()) % 1)

def test_prices():
    assert price("apple") == 3

def test_total():
    total = sum(price(item) for item in ["apple", "pear", "plum"])
    assert total == 8
"""


def shown(text: str | None) -> str | None:
    """A value's repr without what differs between two processes: addresses, thread idents."""
    if text is None:
        return None
    # A long repr is cut in its middle, and the cut can fall inside an address ("0x...c40"), which
    # without_addresses no longer sees as one, or just before it ("SourceFil...4782ff0>").
    text = re.sub(r"0x[0-9a-f]*(?:\.\.\.[0-9a-f]*)?", "0x?", without_addresses(text.encode()).decode())
    text = re.sub(r"\.\.\.[0-9a-f]+(?=>)", "...?", text)
    return re.sub(r"\b\d{9,}\b", "IDENT", text)


def here(session: Session, stop) -> tuple:
    frames = session.state()["frames"]
    return (stop.position, stop.event, stop.file, stop.line, stop.function, stop.depth,
            [(frame.get("file"), frame.get("line"), frame.get("function")) for frame in frames],
            [(value.get("name"), shown(value.get("repr"))) for value in frames[0].get("locals", [])] if frames else None)


def compare_reverse_continue(traced: Session, untraced: Session, program, lines_wanted: int | None = None) -> None:
    """Breakpoints on each line of the program (or ``lines_wanted`` of them), one at a time
    (and two at once, one with a condition): reverse-continue from the end, three times,
    lands on the same hits."""
    lines = [number for number, text in enumerate(program.read_text().splitlines(), 1)
             if text.strip() and not text.lstrip().startswith(("def ", "import ", "#"))]
    if lines_wanted is not None and len(lines) > lines_wanted:
        lines = sorted(random.Random(6).sample(lines, lines_wanted))
    cases = [[(line, None)] for line in lines] + [[(lines[1], None), (lines[-2], "True")]]
    for case in cases:
        for session in (traced, untraced):
            for line, condition in case:
                session.set_breakpoint(str(program), line, condition)
        traced.goto(traced.index.end)
        untraced.goto(untraced.index.end)
        for _ in range(3):
            assert here(untraced, untraced.reverse_continue()) == here(traced, traced.reverse_continue()), case
        for session in (traced, untraced):
            for line, _condition in case:
                session.clear_breakpoint(str(program), line)


def compare_logpoints(traced: Session, untraced: Session, program, count: int) -> None:
    """A logpoint on lines here and there lists the same runs (position, line, event, value),
    seen untraced (3.12 and later; sightings.py) or traced; a run seen untraced is found
    again, at the position the traced session gave it, and stopped at."""
    lines = len(program.read_text().splitlines())
    for line in random.Random(9).sample(range(1, lines + 1), count):
        for expression in ("i", "total"):
            seen = untraced.logpoint(str(program), line, expression)
            wanted = traced.logpoint(str(program), line, expression)
            assert [(run["line"], run["event"], run["value"]) for run in seen] == \
                [(run["line"], run["event"], run["value"]) for run in wanted], (line, expression)
            here = untraced.stop.position
            # Finding a run's position is two moves: checked for a sample of the runs.
            checked = sorted(random.Random(line).sample(range(len(seen)), min(len(seen), 16)))
            assert [untraced.position_of(seen[n]) for n in checked] == [wanted[n]["position"] for n in checked]
            assert untraced.stop.position == here
            for n in [n for n, run in enumerate(seen) if run["at"] is not None][-2:]:
                stop = untraced.goto_run(dict(seen[n], position=None))
                assert (stop.position, stop.line, stop.reason) == (wanted[n]["position"], line, "breakpoint")


def compare(recording, program, positions_wanted: int = 25, logpoints: int = 5,
            lines_wanted: int | None = None) -> Session:
    # No traced lead: these programs are short, and every move should run untraced as far as it can.
    traced, untraced = Session(str(recording), untraced=False), Session(str(recording), traced_lead=0)
    try:
        end = traced.index.end
        assert untraced.index.end == end
        assert untraced.index.line_map, "the indexing pass kept no line map"
        positions = random.Random(7).sample(range(1, end + 1), min(positions_wanted, end))
        for position in [end, *positions, 1, end // 2]:
            assert here(untraced, untraced.goto(position)) == here(traced, traced.goto(position)), position
        for number in random.Random(8).sample(range(1, len(traced.index.event_positions) + 1), 10):
            assert here(untraced, untraced.goto_event(number)) == here(traced, traced.goto_event(number)), number
        assert untraced.untraced_positions > 0 and traced.untraced_positions == 0
        compare_reverse_continue(traced, untraced, program, lines_wanted)
        compare_logpoints(traced, untraced, program, logpoints)
        return untraced
    finally:
        traced.close()
        untraced.close()


@pytest.mark.parametrize("program", [CLOCKS_AND_CALLS, THREAD_IN_THE_MIDDLE], ids=["calls", "a-thread"])
def test_untraced_moves_land_where_traced_ones_do(record, write_program, tmp_path, program):
    write_program(program)
    run = record("program.py")
    assert run.status == 0, run.stderr
    compare(run.path, tmp_path / "program.py")


FORKED_CHILD = """
import os, time

def count(n):
    total = 0
    for i in range(n):
        total += i
        if i % 10 == 0:
            time.time()
    return total

before = count(50)
pid = os.fork()
if pid == 0:
    print("child", count(80), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("parent", count(20))
"""


def test_untraced_moves_in_a_forked_child(record, write_program, tmp_path):
    # The child's replay runs its parent's part first, whose events are numbered from the
    # parent's tape: an untraced move must not take one of those for the child's event.
    write_program(FORKED_CHILD)
    run = record("program.py")
    assert run.status == 0, run.stderr
    with Recording(str(run.path)) as recording:
        child = recording.pids()[1]  # root first
    traced = Session(str(run.path), pid=child, untraced=False)
    untraced = Session(str(run.path), pid=child, traced_lead=0)
    try:
        for position in [untraced.index.end, *random.Random(5).sample(range(1, traced.index.end + 1), 20)]:
            assert here(untraced, untraced.goto(position)) == here(traced, traced.goto(position)), position
        assert untraced.untraced_positions > 0
        compare_reverse_continue(traced, untraced, tmp_path / "program.py")  # the parent's lines too
    finally:
        traced.close()
        untraced.close()


def test_untraced_moves_in_a_pytest_run(record, write_program, tmp_path):
    write_program(PYTEST_SUITE, name="test_shop.py")
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_shop.py")
    assert run.status == 1, run.stdout + run.stderr
    # A traced reverse-continue replays most of pytest's run: two of the lines, not all.
    compare(run.path, tmp_path / "test_shop.py", positions_wanted=10, logpoints=2, lines_wanted=2)
