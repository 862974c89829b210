"""Return values after next and finish over a call, and the sides of a failing assert."""
import pytest

from retrace_core.control.session import Session

PROGRAM = """\
from decimal import Decimal


def discount(price, percent):
    rate = percent * 5 / 100
    return price * (1 - rate)


def checkout():
    paid = discount(200.0, 6)
    exact = discount(Decimal("200"), Decimal("0.3"))
    return paid


total = checkout()
print(total)
"""

LINES = {text.strip(): number for number, text in enumerate(PROGRAM.splitlines(), 1)}


@pytest.fixture(params=["c", "python"])
def session(request, record, write_program):
    program = write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0, run.stderr
    with Session(str(run.path), tracer=request.param) as opened:
        opened.goto(1)
        opened.set_breakpoint(str(program), LINES["paid = discount(200.0, 6)"])
        opened.continue_()
        opened.breakpoints.clear()
        yield opened


def test_next_over_a_call_shows_what_it_returned(session):
    stop = session.next()
    assert stop.line == LINES['exact = discount(Decimal("200"), Decimal("0.3"))']
    assert stop.returned == {"function": "discount", "repr": "140.0", "type": "float"}
    assert session.state()["return_value"]["repr"] == "140.0"
    stop = session.next()
    assert stop.returned["repr"] == "Decimal('197.000')"  # a C type's repr is shown as it is


def test_finish_and_next_over_a_return_line_show_the_function_returned(session):
    session.step_into()
    stop = session.finish()
    assert (stop.function, stop.returned["function"], stop.returned["repr"]) == ("checkout", "discount", "140.0")
    session.next()
    stop = session.next()  # over `return paid`: back in the module
    assert (stop.function, stop.returned["function"], stop.returned["repr"]) == ("<module>", "checkout", "140.0")


def test_a_plain_line_step_has_no_return_value(session):
    stop = session.step_into()
    assert stop.returned is None and "return_value" not in session.state()
