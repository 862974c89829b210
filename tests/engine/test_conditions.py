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


CALLS_BETWEEN_EVENTS = """
    import time

    def price(item):
        return {"apple": 3, "pear": 4}.get(item, 0) + int(time.time()) % 1

    time.time()
    print(sum(price(item) for item in ["apple", "pear", "plum"]))
"""
PRICE_LINE = 5  # return ...: its runs are the last lines before the clock is read


@pytest.mark.parametrize("condition", [None, "True", "item != 'nothing'"])
def test_reverse_continue_with_a_condition_goes_back_through_every_hit(record, write_program, condition):
    # Each run of the line is the last before an event, where the untraced search's run to the
    # end of a stretch ends: a hit there was made a stop, swallowed while remembering, and the
    # run went on to the hit after, so every reverse-continue stayed on the last hit.
    program = write_program(CALLS_BETWEEN_EVENTS)
    run = record("program.py")
    with Session(str(run.path)) as session:
        session.set_breakpoint(str(program), PRICE_LINE, condition)
        session.goto(session.index.end)
        back = [session.reverse_continue() for _ in range(4)]
        assert [stop.line for stop in back] == [PRICE_LINE] * 3 + [2]  # then the start of the run
        assert back[0].position > back[1].position > back[2].position > back[3].position == 1
        session.goto(back[2].position)
        assert session.evaluate("item")["repr"] == "'apple'"
