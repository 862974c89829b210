"""A replay's forks (snapshots, workers started from them, inspection children) must not
change what the program sees. ``random`` reseeds itself in a forked child: before the fix
a worker started from a snapshot drew other numbers, so the values shown differed from
run to run and a recording whose output went to a terminal could not reach its failure.
"""
import json

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
