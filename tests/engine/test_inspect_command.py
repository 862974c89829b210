"""`retrace-tui inspect`: the state at a point of a recording, for people and for agents."""
import json

from conftest import cli

FAILING = """
    import random

    def average(values):
        total = sum(values)
        count = len(values) - 1
        return total / count

    scores = [random.randint(3, 5) for _ in range(3)]
    assert average(scores) <= 3, f"average too high: {average(scores)}"
"""
LINES = FAILING.splitlines()  # write_program keeps the first, empty line: numbers match
ASSERT_LINE = next(n for n, text in enumerate(LINES, 1) if "assert" in text)
RETURN_LINE = next(n for n, text in enumerate(LINES, 1) if "return total" in text)


def test_inspect_at_the_failure_names_the_exception_line_and_locals(record, write_program):
    write_program(FAILING)
    run = record("program.py")
    assert run.status == 1
    shown = cli("inspect", str(run.path), "--json")
    assert shown.status == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state["reason"] == "failure"
    assert state["exception"]["type"] == "AssertionError"
    assert state["exception"]["message"].startswith("average too high: ")
    top = state["frames"][0]
    assert (top["function"], top["line"]) == ("<module>", ASSERT_LINE)
    local_names = {local["name"]: local for local in top["locals"]}
    assert "__name__" not in local_names
    assert local_names["scores"]["type"] == "list"
    printed = cli("inspect", str(run.path))
    assert "the program failed with AssertionError: average too high" in printed.stdout
    assert "assert average(scores) <= 3" in printed.stdout


def test_inspect_at_a_line_and_an_event(record, write_program):
    write_program(FAILING)
    run = record("program.py")
    inside = json.loads(cli("inspect", str(run.path), "--at", f"{run.path.parent / 'program.py'}:{RETURN_LINE}",
                            "--json").stdout)
    frame = inside["frames"][0]
    assert (frame["function"], frame["line"]) == ("average", RETURN_LINE)
    assert {local["name"] for local in frame["locals"]} == {"values", "total", "count"}
    assert [f["function"] for f in inside["frames"]] == ["average", "<module>"]
    # Events made before the program's first line (the interpreter starting) stop at line 1.
    first = json.loads(cli("inspect", str(run.path), "--at", "event:1", "--json").stdout)
    assert first["position"] == 1 and first["frames"][0]["line"] == 2
    # An event made by a line stops at the start of that line: the event is the next to happen.
    events = json.loads(cli("events", str(run.path), "--json").stdout)
    randint = next(event["number"] for event in events if event["function"] == "os.urandom")
    at = json.loads(cli("inspect", str(run.path), "--at", f"event:{randint}", "--json").stdout)
    assert at["event"] <= randint


def test_inspect_bad_input_is_one_line(record, write_program, tmp_path):
    write_program("print('fine')")
    run = record("program.py")
    for arguments in (("--at", "somewhere"), ("--at", "event:999999")):
        shown = cli("inspect", str(run.path), *arguments)
        assert shown.status == 2 and len(shown.stderr.strip().splitlines()) == 1, shown.stderr
    no_failure = cli("inspect", str(run.path))
    assert no_failure.status == 2 and "did not end with an uncaught exception" in no_failure.stderr
    missing = cli("inspect", str(tmp_path / "missing.retrace"))
    assert missing.status == 2 and missing.stderr.count("\n") == 1


def test_reprs_that_make_boundary_calls_show_what_the_program_saw(record, write_program):
    """A socket's repr asks for its address (``getsockname``), a call that is not the next
    event at the stop: the inspecting fork diverged, and a listening socket read
    ``<repr failed: Divergence>``. It answers the latest recorded answer to the same call;
    a call the program never made fails as an OSError that says so, and runs nothing."""
    write_program("""
        import socket, time

        class Stamp:
            def __repr__(self):
                try:
                    return f"Stamp({time.time() > 0}, {open('touched.txt', 'w')})"
                except OSError as error:
                    return f"Stamp({time.time() > 0}, {type(error).__name__}: {error})"

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        stamp = Stamp()
        started = time.time()
        listener.close()
    """)
    run = record("program.py")
    program = (run.path.parent / "program.py").read_text().splitlines()
    close_line = next(n for n, text in enumerate(program, 1) if "listener.close()" in text)
    state = json.loads(cli("inspect", str(run.path), "--at", f"{run.path.parent / 'program.py'}:{close_line}",
                           "--json").stdout)
    local = {item["name"]: item for item in state["frames"][0]["locals"]}
    assert f"laddr=('127.0.0.1', {local['port']['repr']})" in local["listener"]["repr"], local["listener"]
    assert local["stamp"]["repr"].startswith("Stamp(True, NotRecordedHere: io.open("), local["stamp"]
    assert "was not made before this point of the recording" in local["stamp"]["repr"], local["stamp"]
    assert not (run.path.parent / "touched.txt").exists()


def test_a_logpoint_alone_in_a_run_that_did_not_fail(record, write_program):
    # Without --at the place is the failure, and a run without one stopped the command there,
    # though a logpoint lists its line's runs wherever it is asked.
    write_program("""
        import random

        values = [random.randint(3, 5) for _ in range(3)]
        print(sum(values))
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    shown = cli("inspect", str(run.path), "--logpoint", "program.py:5:values")
    assert shown.status == 0, shown.stderr
    assert shown.stdout.splitlines()[0].startswith("logpoint: event ")
    assert "position " in shown.stdout and "(target)" in shown.stdout
    state = json.loads(cli("inspect", str(run.path), "--logpoint", "program.py:5:values", "--json").stdout)
    assert state["at"] == "end" and len(state["logpoint"]) == 1
    # Asked for a value's history, the place still matters: the failure, which there is not.
    refused = cli("inspect", str(run.path), "--history", "values")
    assert refused.status == 2 and "no test failed" in refused.stderr
