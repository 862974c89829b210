"""`retrace-tui inspect` answers about values: --history, --watch, --origin, --logpoint,
the sides of a failing assert, and --at FILE:LINE by a path's tail, with recorded text."""
import json

from conftest import cli

SUITE = """\
def discount(price, percent):
    rate = percent * 0.05
    rate = rate + 0.01
    return price * (1 - rate)


def test_discount():
    assert discount(200.0, 6) == 150.0
"""
LINES = {text.strip(): number for number, text in enumerate(SUITE.splitlines(), 1)}


def record_suite(record, write_program):
    write_program(SUITE, name="suite/test_inventory.py")
    run = record("-m", "pytest", "suite", "-q", "-p", "no:cacheprovider")
    assert run.status == 1, run.stdout + run.stderr
    return run


def inspect(run, *arguments):
    shown = cli("inspect", str(run.path), *arguments)
    assert shown.status == 0, shown.stderr
    return shown


def test_inspect_at_failure_shows_the_sides_of_the_assert(record, write_program):
    run = record_suite(record, write_program)
    state = json.loads(inspect(run, "--json").stdout)
    sides = {side["name"]: side["repr"] for side in state["assertion"]}
    assert sides == {"assert left: discount(200.0, 6)": "138.0", "assert right: 150.0": "150.0"}
    assert state["frames"][0]["locals"][:2] == state["assertion"]
    assert "return_value" in state
    assert "assert left: discount(200.0, 6): float = 138.0" in inspect(run).stdout


def test_inspect_history_watch_origin_and_logpoint_by_a_path_tail(record, write_program):
    run = record_suite(record, write_program)
    at = f"test_inventory.py:{LINES['return price * (1 - rate)']}"  # the file is suite/test_inventory.py
    state = json.loads(inspect(run, "--at", at, "--json", "--history", "rate", "--origin", "rate",
                               "--logpoint", f"test_inventory.py:{LINES['rate = rate + 0.01']}:rate * 100").stdout)
    assert [(entry["line"], entry["value"]) for entry in state["history"]] == [
        (LINES["rate = percent * 0.05"], "0.30000000000000004"), (LINES["rate = rate + 0.01"], "0.31000000000000005")]
    assert state["origin"]["line"] == LINES["rate = rate + 0.01"]
    assert [hit["value"] for hit in state["logpoint"]] == ["30.000000000000004"]
    watched = json.loads(inspect(run, "--at", at, "--json", "--watch", "rate").stdout)
    assert watched["watch"]["line"] == LINES["rate = rate + 0.01"] and watched["reason"] == "watch"
    assert watched["frames"][0]["line"] == LINES["rate = rate + 0.01"]


def test_inspect_shows_the_recorded_source_after_an_edit_and_refuses_lines_that_never_run(record, write_program):
    run = record_suite(record, write_program)
    program = run.path.parent / "suite" / "test_inventory.py"
    program.write_text(program.read_text().replace("rate = percent * 0.05", "rate = 0  # edited later"))
    shown = inspect(run, "--at", f"suite/test_inventory.py:{LINES['rate = percent * 0.05']}")
    assert "rate = percent * 0.05" in shown.stdout and "edited later" not in shown.stdout
    missing = cli("inspect", str(run.path), "--at", "test_inventory.py:99")
    assert missing.status != 0 and missing.stderr.strip() == \
        "retrace-tui: inspect: test_inventory.py:99 never runs in this recording"
    wrong = cli("inspect", str(run.path), "--logpoint", "test_inventory.py:3")
    assert wrong.status != 0 and "FILE:LINE:EXPR" in wrong.stderr and "Traceback" not in wrong.stderr
