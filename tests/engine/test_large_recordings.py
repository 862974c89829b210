"""Recordings at real size: the indexing pass's reply for 100,000 events is far larger
than one packet of the control socket (it once killed the worker: "Message too long")."""
import json
import textwrap

from conftest import cli
from retrace_core.control.session import Session

SUITE = """
    import random
    import time

    import pytest

    FAILING = (990, 997)


    @pytest.mark.parametrize("case", range(1000))
    def test_case(case):
        total = 0.0
        for _ in range(50):
            total += time.perf_counter() * 0 + random.random()
        assert case not in FAILING, f"case {case} failed with total {total:.3f}"
"""
SUITE_ASSERT_LINE = next(n for n, text in enumerate(textwrap.dedent(SUITE).splitlines(), 1) if "assert" in text)

LOOP = """
    import time

    def check(stamps):
        assert len(stamps) < 60_000, f"{len(stamps)} stamps"

    stamps = []
    for _ in range(60_000):
        stamps.append(time.time())
    check(stamps)
"""


def test_a_suite_of_1000_tests_and_100k_events_opens_and_reaches_each_failure(record, write_program):
    write_program(SUITE, "test_generated.py")
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_generated.py", verify_after=False)
    assert run.status == 1, run.stderr
    with Session(str(run.path)) as session:
        events = len(session.index.event_positions)
        assert events >= 100_000
        assert len(session.index.tests) >= 1000
        failed = [test.nodeid for test in session.index.tests if test.outcome == "failed"]
        assert failed == ["test_generated.py::test_case[990]", "test_generated.py::test_case[997]"]
        for which, case in enumerate((990, 997)):
            stop = session.goto_failure(which)
            assert (stop.reason, stop.line, stop.function) == ("failure", SUITE_ASSERT_LINE, "test_case")
            top = session.state()["frames"][0]
            assert {local["name"]: local["repr"] for local in top["locals"]}["case"] == str(case)
        last = session.goto_event(events)
        assert last.position == max(session.index.event_positions[-1], 1)
        assert session.state()["event"] == events


def test_inspect_at_the_failure_of_a_60000_call_loop(record, write_program):
    write_program(LOOP)
    run = record("program.py", verify_after=False)
    assert run.status == 1
    shown = cli("inspect", str(run.path), "--at", "failure", "--json", timeout=300)
    assert shown.status == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state["events"] >= 60_000
    assert state["exception"]["message"] == "60000 stamps"
    top = state["frames"][0]
    assert top["function"] == "check"
    assert {local["name"]: local["repr"] for local in top["locals"]}["stamps"].startswith("[")
    printed = cli("inspect", str(run.path), "--at", "failure", timeout=300)
    assert printed.status == 0, printed.stderr
    assert "failed with AssertionError: 60000 stamps" in printed.stdout


def tall_program(blank_lines: int) -> str:
    """A function whose first and last lines are `blank_lines` apart (generated code is
    like that), then many small functions, then a failure."""
    small = "\n".join(f"def part_{k}(x):\n" + "".join(f"    x = x * 3 % 1009 + {n}\n" for n in range(20))
                      + "    return x\n" for k in range(80))
    calls = " + ".join(f"part_{k}(seed)" for k in range(80))
    return ("import time\n\ndef tall():\n    first = time.time()\n" + "\n" * blank_lines + "    return first\n\n"
            f"seed = int(tall()) % 7\n{small}\n"
            f"def check(total):\n    assert total < 0, f'total {{total}}'\n\ntotal = {calls}\ncheck(total)\n")


def test_a_function_taller_than_the_line_maps_chunks(record, write_program, tmp_path):
    """The line map of a code object spanning 600,000 lines is bigger than the arena's
    chunk: it once got a chunk of its own whose end every later block was put past, over
    other memory (humanize's suite killed the worker there)."""
    source = tall_program(600_000)
    write_program(source)
    run = record("program.py", verify_after=False)
    assert run.status == 1, run.stderr
    lines = source.splitlines()
    check_line = next(n for n, text in enumerate(lines, 1) if text.startswith("    assert total"))
    last_part_line = next(n for n, text in enumerate(lines, 1) if text == "def part_79(x):") + 20
    with Session(str(run.path)) as session:
        stop = session.goto_failure()
        assert (stop.line, stop.function) == (check_line, "check")
        assert session.index.line_map is not None
        session.set_breakpoint(str(tmp_path / "program.py"), last_part_line)
        back = session.reverse_continue()
        assert (back.line, back.function) == (last_part_line, "part_79")
        assert back.position < stop.position
