"""Breakpoint conditions: those free of side effects are evaluated in the worker itself
(once a throw-away fork per hit: a line hit 300,000 times took minutes)."""
import pytest

from retrace_core.control.conditions import is_pure
from retrace_core.control.session import Session

LOOP = """
    total = 0
    for i in range(300_000):
        total += i
    print(total)
"""
LINE = 4  # total += i (write_program keeps the first, empty line)


@pytest.mark.parametrize("expression", [
    "i < 0", "a.b[3] == 'x' and not done", "len(items) > 2 * n", "isinstance(x, (int, float))",
    "max(a, b) >= -1", "x if y else z", "{'a': 1}['a'] in (1, 2)"])
def test_pure_conditions(expression):
    assert is_pure(expression)


@pytest.mark.parametrize("expression", [
    "f(x)", "items.pop()", "max(items)", "[x for x in y]", "(n := 3)", "__import__('os')",
    "open('f')", "len(*args)", "print(x)", "lambda: 1", "i <"])
def test_conditions_with_possible_side_effects(expression):
    assert not is_pure(expression)


def test_a_condition_on_a_line_hit_300000_times(record, write_program):
    program = write_program(LOOP)
    run = record("program.py")
    with Session(str(run.path)) as session:
        session.set_breakpoint(str(program), LINE, "i < 0")
        session.goto(1)
        assert session.continue_().finished
        session.breakpoints = []
        session.set_breakpoint(str(program), LINE, "i == 299_990")
        session.goto(1)
        stop = session.continue_()
        assert stop.line == LINE
        assert session.evaluate("i")["repr"] == "299990"
        session.goto(session.index.end)
        assert session.reverse_continue().position == stop.position
