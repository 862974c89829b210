"""A replay's forks (snapshots, workers started from them, inspection children) must not
change what the program sees. ``random`` reseeds itself in a forked child: before the fix
a worker started from a snapshot drew other numbers, so the values shown differed from
run to run and a recording whose output went to a terminal could not reach its failure.
"""
import json
import re

import pytest

from conftest import cli, record_with_stdout
from retrace_core.control import Session

SCRIPT = """\
import random


def work(n):
    total = 0
    for i in range(n):
        total += i
    return total

work(20000)
x = random.random()
print("x =", x)
work(20000)
pick = random.randint(1, 1000)
print("pick =", pick)
assert x < 0, x
"""
ASSERT_LINE = 16


def printed(stdout: str) -> dict:
    return {name: float(value) for name, _, value in (line.partition(" = ") for line in stdout.splitlines())}


@pytest.mark.parametrize("stdout", ["pipe", "file", "terminal"])
def test_inspect_at_failure_shows_the_recorded_values(tmp_path, write_program, stdout):
    write_program(SCRIPT)
    run = record_with_stdout(tmp_path, "program.py", stdout)
    assert run.status == 1, run.stderr
    values = printed(run.stdout)
    answers = set()
    for _ in range(2):
        shown = cli("inspect", str(run.path), "--at", "failure", "--json", cwd=tmp_path)
        assert shown.status == 0, shown.stderr
        state = json.loads(shown.stdout)
        frame = state["frames"][0]
        assert (frame["line"], state["reason"]) == (ASSERT_LINE, "failure")
        local = {item["name"]: item["repr"] for item in frame["locals"]}
        assert float(local["x"]) == values["x"] and int(local["pick"]) == values["pick"]
        answers.add(local["x"])
    assert len(answers) == 1


def test_evaluate_draws_what_the_program_drew_next(tmp_path, write_program):
    """At the line that draws ``pick``, evaluating the same draw gives the recorded pick,
    every time (each evaluation is a throw-away fork of the same worker)."""
    program = write_program(SCRIPT)
    run = record_with_stdout(tmp_path, "program.py", "pipe")
    values = printed(run.stdout)
    with Session(str(run.path)) as session:
        session.goto(1)
        session.set_breakpoint(str(program), ASSERT_LINE - 2)
        stop = session.continue_()
        assert stop.line == ASSERT_LINE - 2
        for _ in range(3):
            assert session.evaluate("random.randint(1, 1000)")["repr"] == str(int(values["pick"]))
        back = session.back()
        assert session.evaluate("x")["repr"] == repr(values["x"]), back


ARMS_A_STACK_DUMP_TIMER = """\
import faulthandler, sys
faulthandler.dump_traceback_later(60, file=sys.stderr)
total = 0
for i in range(300000):
    total += i
faulthandler.cancel_dump_traceback_later()
print("done", total)
"""


def test_a_stack_dump_timer_armed_before_a_snapshot_does_not_hang_the_engine(tmp_path):
    """Found in trio's suite (pytest's ``faulthandler_timeout``): faulthandler's timer is a C
    thread, which a snapshot (a fork) does not have, and cancelling it from a worker started
    from a snapshot taken while it was armed waited forever: ``inspect --at end`` hung."""
    (tmp_path / "program.py").write_text(ARMS_A_STACK_DUMP_TIMER)
    recorded = cli("record", "-o", str(tmp_path / "run.retrace"), "--", "program.py", cwd=tmp_path)
    assert (recorded.status, recorded.stdout) == (0, "done 44999850000\n"), recorded.stderr
    at_end = cli("inspect", str(tmp_path / "run.retrace"), "--at", "end", cwd=tmp_path, timeout=60)
    assert at_end.status == 0 and "diverged" not in at_end.stdout + at_end.stderr, at_end.stdout + at_end.stderr
    assert re.match(r"position (\d+) of \1,", at_end.stdout), at_end.stdout  # at the end
    assert 'print("done", total)' in at_end.stdout and "total: int = 44999850000" in at_end.stdout


RUNS_AN_EVENT_LOOP = """\
import asyncio, time


async def step(total):
    loop = asyncio.get_running_loop()  # RuntimeError in a fork that lost the running loop
    total += sum(range(60000)) + int(loop.time() > 0)
    await asyncio.sleep(0)
    time.time()
    return total

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
total = 0
for round in range(200):
    total = loop.run_until_complete(step(total))
    assert asyncio.get_event_loop() is loop  # from 3.12 a fork forgets the loop set
print("done", total)
"""


def test_a_move_from_a_snapshot_taken_while_an_event_loop_runs_keeps_the_loop(tmp_path):
    """Found in aiohttp's suite (``inspect --at end`` diverged where the indexing pass did
    not): asyncio's C code keeps the running loop with the pid that set it and, in a forked
    child, answers that no loop runs. Every snapshot is a fork, so a move from one taken
    inside a test's loop met "no running event loop" at the next ``get_running_loop()``;
    from 3.12 asyncio's at-fork handler also forgets the loop ``set_event_loop`` set."""
    (tmp_path / "program.py").write_text(RUNS_AN_EVENT_LOOP)
    recorded = cli("record", "-o", str(tmp_path / "run.retrace"), "--", "program.py", cwd=tmp_path)
    assert recorded.status == 0 and recorded.stdout.startswith("done "), recorded.stderr
    with Session(str(tmp_path / "run.retrace")) as session:
        events = len(session.index.event_positions)
        for number in (events // 2, events // 3, events, events // 2):  # back: from snapshots in the loop
            stop = session.goto_event(number)
            main = "__import__('sys').modules['__main__']"  # wherever the move stopped
            assert session.evaluate(f"{main}.asyncio.get_event_loop() is {main}.loop")["repr"] == "True", stop
