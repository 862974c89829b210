"""Watches over a call whose callee works long: going back, the engine skips the stretches
between snapshots where only deeper frames ran (the indexing pass keeps the shallowest
depth of each), and still finds a change the callee made deep inside that work."""
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


print(watched(60_000))
"""

LINES = {text.strip(): number for number, text in enumerate(PROGRAM.splitlines(), 1)}


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    from conftest import cli

    folder = tmp_path_factory.mktemp("long-callees")
    (folder / "program.py").write_text(PROGRAM)
    run = cli("record", "-o", str(folder / "run.retrace"), "--", "program.py", cwd=folder)
    assert run.status == 0, run.stderr
    return folder


@pytest.fixture
def session(recording):
    with Session(str(recording / "run.retrace")) as opened:
        opened.goto(1)
        opened.set_breakpoint(str(recording / "program.py"), LINES["return box.rate + level"])
        stop = opened.continue_()
        opened.breakpoints.clear()
        assert stop.line == LINES["return box.rate + level"]
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
