"""Watchpoints both ways, value histories, logpoints and origins, on real recordings."""
import pytest

from retrace_core.control.session import EngineError, Session

PROGRAM = """\
class Box:
    def __init__(self):
        self.size = 0


def fill(items):
    items.append(len(items))


def work(n):
    box = Box()
    table = {}
    rate = n * 0.5
    items = []
    rate = rate + 0.25
    box.size = 3
    table["k"] = 1
    fill(items)
    box.size = 7
    table["k"] = 2
    fill(items)
    return rate * box.size


def twice():
    return work(1) + work(2)


with open("rate.txt") as source:
    outside = float(source.read().strip())
scaled = outside * 2
print("result", twice(), scaled)
for round_number in range(4):
    square = round_number * round_number
"""

LINES = {text.strip(): number for number, text in enumerate(PROGRAM.splitlines(), 1)}
RETURN = LINES["return rate * box.size"]
FIRST = {"rate": LINES["rate = n * 0.5"], "box.size": LINES["box.size = 3"], "table['k']": LINES['table["k"] = 1']}
SECOND = {"rate": LINES["rate = rate + 0.25"], "box.size": LINES["box.size = 7"],
          "table['k']": LINES['table["k"] = 2']}
VALUES = {"rate": ["1.0", "1.25"], "box.size": ["3", "7"], "table['k']": ["1", "2"]}


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    from conftest import recorded_folder

    return recorded_folder(tmp_path_factory.mktemp("watch"), PROGRAM, {"rate.txt": "0.375\n"})


@pytest.fixture
def session(recording):
    with Session(str(recording / "run.retrace")) as opened:
        opened.program = str(recording / "program.py")
        yield opened


def at_second_return(session):
    """At `return` of the second call of work() (n=2)."""
    session.goto(1)
    session.set_breakpoint(session.program, RETURN)
    session.continue_()
    stop = session.continue_()
    session.clear_breakpoint(session.program, RETURN)
    assert (stop.line, stop.function) == (RETURN, "work")
    return stop


def value(session, expression):
    return session.evaluate(expression)["repr"]


@pytest.mark.parametrize("expression", ["rate", "box.size", "table['k']"])
def test_watch_back_to_each_assignment_then_forward_to_the_next_change(session, expression):
    at_second_return(session)
    assert value(session, expression) == VALUES[expression][1]
    session.watch(expression)

    stop = session.reverse_continue()
    assert (stop.reason, stop.line) == ("watch", SECOND[expression])
    assert stop.watch["old"] == VALUES[expression][0] and stop.watch["new"] == VALUES[expression][1]
    assert value(session, expression) == VALUES[expression][0]  # before the line runs: the old value

    stop = session.reverse_continue()
    assert (stop.reason, stop.line) == ("watch", FIRST[expression])
    assert stop.watch["new"] == VALUES[expression][0]

    stop = session.continue_()  # from the first assignment: stops just after it ran
    assert (stop.reason, stop.line, stop.function) == ("watch", FIRST[expression], "work")
    assert stop.watch["new"] == VALUES[expression][0]
    assert value(session, expression) == VALUES[expression][0]
    assert session.state()["frames"][0]["line"] == FIRST[expression] + 1

    stop = session.continue_()
    assert (stop.line, stop.watch["old"], stop.watch["new"]) == (SECOND[expression], *VALUES[expression])


@pytest.mark.parametrize("expression", ["rate", "box.size", "table['k']"])
def test_history_lists_the_values_of_this_call_in_order(session, expression):
    stop = at_second_return(session)
    history = session.history(expression)
    changes = [(entry["line"], entry["value"]) for entry in history if entry["line"] in FIRST.values()
               or entry["line"] in SECOND.values()]
    assert changes == [(FIRST[expression], VALUES[expression][0]), (SECOND[expression], VALUES[expression][1])]
    assert [entry["position"] for entry in history] == sorted(entry["position"] for entry in history)
    assert session.stop.position == stop.position  # the session stays where it stood
    session.goto(history[-1]["position"])  # each entry is a place to go to, where the value shows
    assert value(session, expression) == history[-1]["value"]


def test_history_across_every_call_and_a_change_made_by_a_callee(session):
    at_second_return(session)
    everywhere = session.history("rate", all_calls=True)
    assert [entry["value"] for entry in everywhere] == ["0.5", "0.75", "1.0", "1.25"]
    assert [entry["call"] for entry in everywhere] == [1, 1, 2, 2]
    items = session.history("len(items)")  # fill() appends: the change shows at its call's line
    assert [(entry["line"], entry["value"]) for entry in items] == [
        (LINES["items = []"], "0"), (FIRST["table['k']"] + 1, "1"), (SECOND["table['k']"] + 1, "2")]


def test_forward_watch_ends_with_its_call_and_conditions_filter(session):
    session.goto(1)
    session.set_breakpoint(session.program, FIRST["rate"])
    session.continue_()
    stop = session.continue_()  # the second call, before `rate = n * 0.5`
    session.clear_breakpoint(session.program, FIRST["rate"])
    assert (stop.line, value(session, "n")) == (FIRST["rate"], "2")
    watch_id = session.watch("rate", condition="rate > 1.1")
    stop = session.continue_()
    assert (stop.reason, stop.line, stop.watch["new"]) == ("watch", SECOND["rate"], "1.25")
    stop = session.continue_()
    assert stop.reason == "watch-scope" and stop.watch == {"id": watch_id, "expression": "rate", "ended": True}
    # `return work(1) + work(2)` has no new line after the call returns: the next is the module's
    assert (stop.function, stop.line) == ("<module>", LINES['print("result", twice(), scaled)'] + 1)
    with pytest.raises(EngineError):
        session.unwatch(watch_id)  # deleted with its call, as gdb does


def test_side_effects_and_missing_frames_are_refused(session):
    at_second_return(session)
    with pytest.raises(EngineError, match="without side effects"):
        session.watch("items.pop()")
    with pytest.raises(EngineError, match="no frame 9"):
        session.watch("rate", frame=9)
    with pytest.raises(EngineError, match="without side effects"):
        session.logpoint(session.program, RETURN, "print(rate)")


def test_logpoint_prints_at_every_hit_after_the_fact(session):
    session.goto(1)
    line = LINES["square = round_number * round_number"]
    hits = session.logpoint(session.program, line, "round_number * 10")
    assert [hit["value"] for hit in hits] == ["0", "10", "20", "30"]
    assert all(hit["line"] == line for hit in hits)
    assert session.stop.position == 1
    stop = session.goto_run(hits[2])  # a run seen untraced (3.12 and later) is found as it is gone to
    assert (stop.line, value(session, "round_number")) == (line, "2")
    assert hits[2]["position"] == stop.position
    session.goto(1)
    assert session.goto_run(hits[2]).position == stop.position
    assert session.position_of(hits[1]) < stop.position and session.stop.position == stop.position


def test_origin_names_the_line_and_the_file_read_that_brought_the_value(session):
    session.goto(1)
    session.set_breakpoint(session.program, LINES["scaled = outside * 2"])
    session.continue_()
    origin = session.origin("outside")
    assert origin["line"] == LINES["outside = float(source.read().strip())"]
    assert origin["value"] == "0.375"
    assert origin["event"] is not None and "0.375" in origin["event"]["result"]
    assert "read" in origin["event"]["function"]
    session.goto_event(origin["event"]["event"])  # a jump target
