"""Watches on a local of a frame that loops: the tracer stops only at the lines that store
the name and the line after each (while its value cannot change in place), and still
sees every change, in both directions, as a stop at every line did."""
import pytest

from retrace_core.control.session import Session

PROGRAM = """\
def loop(n, words):
    total = 0
    items = []
    shape = 1
    for i in range(n):
        if i % 3 == 0:
            total += i
        items.append(i % 2)
    shape = []
    shape.append(5)
    for word in words:
        pass
    tmp = 5
    del tmp
    try:
        raise ValueError("x")
    except ValueError as problem:
        seen = str(problem)
    tmp = 6
    return total


print(loop(10, ["a", "b"]))
"""

LINES = {text.strip(): number for number, text in enumerate(PROGRAM.splitlines(), 1)}
RETURN = LINES["return total"]


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    from conftest import recorded_folder

    return recorded_folder(tmp_path_factory.mktemp("store-lines"), PROGRAM)


@pytest.fixture
def session(recording):
    with Session(str(recording / "run.retrace")) as opened:
        opened.program = str(recording / "program.py")
        yield opened


def stop_at(session, line):
    session.goto(1)
    session.set_breakpoint(session.program, line)
    stop = session.continue_()
    session.clear_breakpoint(session.program, line)
    assert stop.line == line
    return stop


@pytest.mark.parametrize(("expression", "values"), [
    ("total", ["0", "3", "9", "18"]),  # i = 0 adds nothing: no change
    ("items", ["[]", "[0]", "[0, 1]", "[0, 1, 0]", "[0, 1, 0, 1]"]),  # changed in place: every line counts
    ("shape", ["1", "[]", "[5]"]),  # an int, then a list changed in place
    ("word", ["'a'", "'b'"]),
    ("tmp", ["5", "<not set>", "6"]),
    ("problem", ["ValueError('x')", "<not set>"]),  # `except ... as` deletes it after the block
])
def test_history_of_a_local_in_a_loop_lists_every_change(session, expression, values):
    stop_at(session, RETURN)
    found = [entry["value"] for entry in session.history(expression)]
    assert found[:len(values)] == values
    if expression == "items":
        assert found[-1] == "[0, 1, 0, 1, 0, 1, 0, 1, 0, 1]"


def test_reverse_continue_finds_the_last_store_in_the_loop(session):
    stop_at(session, RETURN)
    session.watch("total")
    stop = session.reverse_continue()
    assert (stop.reason, stop.line, stop.watch["old"], stop.watch["new"]) == ("watch", LINES["total += i"], "9", "18")
    assert session.evaluate("i")["repr"] == "9"
    stop = session.reverse_continue()
    assert (stop.line, stop.watch["old"], stop.watch["new"]) == (LINES["total += i"], "3", "9")


def test_continue_stops_right_after_each_change_in_the_loop(session):
    stop_at(session, LINES["total = 0"])
    session.watch("total")
    stops = []
    while True:
        stop = session.continue_()
        if stop.reason != "watch":
            break
        stops.append((stop.line, stop.watch["new"], session.state()["frames"][0]["line"]))
    after_add = LINES["items.append(i % 2)"]
    assert stops == [(LINES["total = 0"], "0", LINES["items = []"]), (LINES["total += i"], "3", after_add),
                     (LINES["total += i"], "9", after_add), (LINES["total += i"], "18", after_add)]
    assert stop.reason == "watch-scope" or stop.finished
