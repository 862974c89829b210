"""`inspect --at failure` without the indexing pass (core/control/first_look.py): the run is
replayed untraced up to the failing test and traced only from there, and what the user
sees at the failure is what the indexed session shows there."""
import json
import re
import textwrap

import pytest

from conftest import cli
from retrace_core.control.first_look import BASE, look_at_failure, position_in_run
from retrace_core.control.session import EngineError, Session

SUITE = """
    import time

    import pytest


    def check(x):
        assert x < 3, f"x is {x}"


    @pytest.mark.parametrize("case", range(40))
    def test_before(case):
        check(case % 3)
        time.time()


    def test_loop():
        for i in range(6):
            time.time()
            check(i)


    def test_after():
        for i in range(3):
            check(i)


    @pytest.fixture
    def broken():
        check(7)


    def test_setup_fails(broken):
        pass
"""
CHECK_LINE = next(n for n, text in enumerate(textwrap.dedent(SUITE).splitlines(), 1) if "assert x" in text)


def frames(state: dict) -> list:
    return [(frame["file"], frame["line"], frame["function"],
             [(local["name"], local["repr"]) for local in frame.get("locals", [])]) for frame in state["frames"]]


def test_the_failing_lines_last_run_before_the_failure_as_the_index_finds_it(record, write_program):
    """The failing line runs in earlier tests, three times in the failing test before it
    fails, and again in later tests: the first look stops at its failing run, untraced
    before the test, exactly where the indexed session's `g` stops."""
    write_program(SUITE, "test_checks.py")
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_checks.py", verify_after=False)
    assert run.status == 1, run.stderr
    with Session(str(run.path), index=False) as session:
        stop, failure = look_at_failure(session)
        assert stop.position > BASE  # counted from the test's first event: nothing before it was traced
        looked = session.state()
    assert failure["nodeid"] == "test_checks.py::test_loop" and failure["line"] == CHECK_LINE
    assert (stop.reason, stop.line, stop.function) == ("failure", CHECK_LINE, "check")
    assert looked["position"] is None
    assert dict(frames(looked)[0][3])["x"] == "3"
    with Session(str(run.path)) as session:
        session.goto_failure()
        indexed = session.state()
    assert frames(looked) == frames(indexed)
    assert (looked["event"], looked["thread"], looked["reason"]) == (indexed["event"], indexed["thread"], "failure")


def test_inspect_at_the_failure_says_there_is_no_position(record, write_program):
    write_program(SUITE, "test_checks.py")
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_checks.py", verify_after=False)
    printed = cli("inspect", str(run.path))
    assert printed.status == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0].startswith("event ") and "(failure; no position" in lines[0]
    assert lines[1].startswith("test test_checks.py::test_loop failed with AssertionError: x is 3 at ")
    assert lines[2].endswith(f"test_checks.py:{CHECK_LINE} in check")
    assert "       x: int = 3" in lines
    shown = json.loads(cli("inspect", str(run.path), "--json").stdout)
    assert shown["position"] is None and shown["reason"] == "failure"
    assert [test["outcome"] for test in shown["tests"]].count("failed") == 2  # test_loop, test_setup_fails
    # --at position:N still works from the numbers the indexed session gives
    at_end = cli("inspect", str(run.path), "--at", "end")
    assert at_end.status == 0 and at_end.stdout.startswith("position ")


def test_a_failure_in_a_fixture_is_looked_at_too(record, write_program):
    write_program(SUITE.replace("def test_loop", "def skipped_loop"), "test_checks.py")
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_checks.py", verify_after=False)
    shown = json.loads(cli("inspect", str(run.path), "--json").stdout)
    assert shown["position"] is None
    assert shown["exception"]["nodeid"] == "test_checks.py::test_setup_fails"
    assert [frame["function"] for frame in shown["frames"][:2]] == ["check", "broken"]
    assert {local["name"]: local["repr"] for local in shown["frames"][0]["locals"]}["x"] == "7"


def test_a_program_without_tests_is_indexed_as_before(record, write_program):
    write_program("def f(n):\n    assert n > 1\n\nf(1)\n")
    run = record("program.py", verify_after=False)
    printed = cli("inspect", str(run.path))
    assert printed.status == 0, printed.stderr
    assert printed.stdout.startswith("position ")
    assert "the program failed with AssertionError" in printed.stdout


FORKED_TEST = """
    import time


    def check(x):
        assert x < 2, f"x is {x}"


    def test_a():
        for i in range(4):
            time.time()
            check(i)
"""
FORKING = """
    import os
    import time

    import pytest
    from test_forked import check

    for i in range(12_000):  # more events than the child has when its test fails; the line runs
        time.time()
        check(i % 2)
    pid = os.fork()
    if pid == 0:
        os._exit(int(pytest.main(["-q", "-p", "no:cacheprovider", "test_forked.py"])))
    os.waitpid(pid, 0)
"""


def test_a_test_failed_in_a_forked_process_is_found_where_it_failed(record, write_program):
    """A forked process's replay runs its parent's events first: its own tape's event
    numbers cannot say where its test began, so it is indexed (it once stopped in the
    parent, at a run of the same line with other values)."""
    write_program(FORKED_TEST, "test_forked.py")
    write_program(FORKING)
    run = record("program.py", verify_after=False)
    shown = json.loads(cli("inspect", str(run.path), "--json").stdout)
    assert shown["exception"]["nodeid"].endswith("test_forked.py::test_a")
    assert [frame["function"] for frame in shown["frames"][:2]] == ["check", "test_a"]
    assert {local["name"]: local["repr"] for local in shown["frames"][0]["locals"]}["x"] == "2"


def where(session: Session) -> tuple:
    state = session.state()
    top = state["frames"][0] if state["frames"] else {}
    return (top.get("file"), top.get("line"), top.get("function"), state["event"],
            [(local["name"], re.sub("0x[0-9a-f]+", "0x?", local["repr"])) for local in top.get("locals", [])])


def test_moves_from_the_first_look_land_where_the_indexed_sessions_do(record, write_program):
    """Before the index: steps, reverse-continues and their reverses within what the first
    look replayed stop where the indexed session's do, at the same position of the run;
    going back past the test's start stops there ("look-start"); what needs the index says so."""
    write_program(SUITE, "test_checks.py")
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_checks.py", verify_after=False)
    check = (str(run.path.parent / "test_checks.py"), CHECK_LINE)
    with Session(str(run.path), index=False) as looked, Session(str(run.path)) as indexed:
        look_at_failure(looked)
        indexed.goto_failure()
        for session in (looked, indexed):
            session.set_breakpoint(*check)
        for verb in ["back", "back_into", "step_into", "next", "back_finish", "finish", "reverse_continue",
                     "reverse_continue", "continue_", "back", "next", "reverse_continue", "reverse_continue"]:
            getattr(looked, verb)()
            getattr(indexed, verb)()
            assert where(looked) == where(indexed), verb
            assert position_in_run(looked, looked.stop.position, indexed.index) == indexed.stop.position, verb
        assert dict(where(looked)[4])["x"] == "2"
        seen = [dict(where(looked)[4])["x"] for _ in range(2) if looked.reverse_continue()]
        assert seen == ["1", "0"]  # the test's earlier calls of check
        stop = looked.reverse_continue()  # the earlier tests' calls were not replayed: the look's start
        assert stop.reason == "look-start" and stop.position == looked.begins
        with pytest.raises(EngineError, match="still being indexed"):
            looked.goto_event(3)
