"""Watches over a call that works long, in a callee or in a loop of its own: going back,
the engine skips the stretches between snapshots where only deeper frames ran (the
indexing pass keeps the shallowest depth of each) or where no line that stores a watched
local ran (the line map), and still finds every change made there."""
import pytest

from retrace_core.control.session import Session

PROGRAM = """\
class Box:
    rate = 0.0


def churn(rounds):
    total = 0
    for i in range(rounds):
        total += (i * i + 7) % 13
    return total


def mutate(box, rounds):
    total = churn(rounds)
    box.rate = 0.35
    return total + churn(rounds)


def watched(rounds):
    box = Box()
    box.rate = 0.1
    level = 1
    mutate(box, rounds)
    level = 2
    churn(rounds)
    return box.rate + level


print(watched(250_000))
"""

LINES = {text.strip(): number for number, text in enumerate(PROGRAM.splitlines(), 1)}


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    from conftest import recorded_folder

    return recorded_folder(tmp_path_factory.mktemp("long-callees"), PROGRAM)


def opened_at(folder, line: int):
    """A session of ``folder``'s recording, stopped at the first run of ``line``."""
    opened = Session(str(folder / "run.retrace"))
    opened.goto(1)
    opened.set_breakpoint(str(folder / "program.py"), line)
    stop = opened.continue_()
    opened.breakpoints.clear()
    assert stop.line == line
    return opened


@pytest.fixture
def session(recording):
    with opened_at(recording, LINES["return box.rate + level"]) as opened:
        yield opened


def test_going_back_finds_the_change_a_callee_made_deep_in_its_work(session):
    # The premise: the callee's work spans snapshots, so there is a stretch to skip.
    assert any(depth > session.stop.depth for _position, depth in session.index.depth_floors)
    session.watch("box.rate")
    stop = session.reverse_continue()
    assert (stop.reason, stop.line) == ("watch", LINES["mutate(box, rounds)"])
    assert (stop.watch["old"], stop.watch["new"]) == ("0.1", "0.35")
    stop = session.reverse_continue()
    assert (stop.reason, stop.line) == ("watch", LINES["box.rate = 0.1"])


def test_history_over_the_call_lists_every_value_in_order(session):
    assert [entry["value"] for entry in session.history("level")] == ["1", "2"]
    lines = [entry["line"] for entry in session.history("box.rate")]
    values = [entry["value"] for entry in session.history("box.rate")]
    assert values == ["0.0", "0.1", "0.35"]
    assert lines[1:] == [LINES["box.rate = 0.1"], LINES["mutate(box, rounds)"]]


# The work as a loop in the watched frame: going back, the stretches where none of the
# lines that store `rate` ran are skipped (the line map, cut at the indexing pass's
# snapshots); a list, which changes in place, is followed line by line.
LOOP = """\
def work(n):
    rate = 0.1
    found = []
    for i in range(n):
        total = i % 7
        if i == n // 2:
            rate = 0.35
            found.append(i)
    return rate + total


print(work(150_000))
"""

LOOP_LINES = {text.strip(): number for number, text in enumerate(LOOP.splitlines(), 1)}


@pytest.fixture(scope="module")
def loop_recording(tmp_path_factory):
    from conftest import recorded_folder

    return recorded_folder(tmp_path_factory.mktemp("long-loop"), LOOP)


@pytest.fixture
def loop_session(loop_recording):
    with opened_at(loop_recording, LOOP_LINES["return rate + total"]) as opened:
        yield opened


def test_going_back_over_a_loop_finds_the_store_half_way(loop_session):
    assert len(loop_session.index.stretch_breaks) >= 2  # the premise: the loop spans snapshots
    loop_session.watch("rate")
    stop = loop_session.reverse_continue()
    assert (stop.reason, stop.line, stop.watch["old"], stop.watch["new"]) == \
        ("watch", LOOP_LINES["rate = 0.35"], "0.1", "0.35")
    assert loop_session.evaluate("i")["repr"] == "75000"
    stop = loop_session.reverse_continue()
    assert (stop.reason, stop.line) == ("watch", LOOP_LINES["rate = 0.1"])


def test_history_over_a_loop_of_a_number_and_of_a_list(loop_session):
    assert [entry["value"] for entry in loop_session.history("rate")] == ["0.1", "0.35"]
    assert [entry["value"] for entry in loop_session.history("found")] == ["[]", "[75000]"]
    assert [entry["line"] for entry in loop_session.history("found")][1] == LOOP_LINES["found.append(i)"]
