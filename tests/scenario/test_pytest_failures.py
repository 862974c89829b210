"""The engine opens a recorded pytest run at a failing test's failing line: the tests and
their failures come from the markers, `goto_failure` lands on the line that failed (not
a later run in teardown), and `inspect --at failure` names the test."""
import json
from pathlib import Path

import pytest

from conftest import cli, verify
from scenario.pytest_projects import QUIET, line_of, normalised, plain_pytest, project

FAILING_SUITE = {
    "shop/__init__.py": "",
    "shop/prices.py": """
        def price_of(item, table):
            if item not in table:
                raise KeyError(f"no price for {item}")
            return table[item]
    """,
    "tests/test_shop.py": """
        from shop.prices import price_of

        def test_known_price():
            assert price_of("apple", {"apple": 3}) == 3

        def test_total():
            cart = ["apple", "pear"]
            total = sum(len(name) for name in cart)
            assert total == 10

        def test_missing_price():
            table = {"apple": 3}
            assert price_of("kiwi", table) == 1

        def test_last():
            assert True
    """,
    "tests/test_wallet.py": """
        import pytest

        def check(balance):
            assert balance >= 0

        @pytest.fixture
        def account():
            yield 5
            check(5)  # the teardown runs the same check, and it passes

        def test_withdraw(account):
            balance = account - 7
            check(balance)
    """,
}


@pytest.fixture(scope="module")
def failing_suite(tmp_path_factory) -> Path:
    """A project whose suite has failing tests, recorded once (and verified): two in
    tests/test_shop.py (an assert in the test; an exception raised in the project's
    helper module), then one in tests/test_wallet.py (an assert in a helper)."""
    root = project(tmp_path_factory.mktemp("failing_suite"), FAILING_SUITE)
    recording = root / "pytest.retrace"
    arguments = ("-m", "pytest", "tests", "-q", *QUIET)
    run = cli("record", "-o", str(recording), "--", *arguments, cwd=root)
    alone = plain_pytest(root, *arguments[2:])
    assert run.status == alone.status == 1, run.stdout + run.stderr
    assert normalised(run.stdout) == normalised(alone.stdout)
    verdict = verify(recording)
    assert verdict.status == 0, verdict.stdout + verdict.stderr
    return recording


def test_the_engine_lists_the_tests_and_goes_to_each_failing_line(failing_suite):
    from retrace_core.control.session import Session

    tests_file, prices = failing_suite.parent / "tests" / "test_shop.py", failing_suite.parent / "shop" / "prices.py"
    assert_line, raise_line = line_of(tests_file, "assert total == 10"), line_of(prices, "raise KeyError")
    check_line = line_of(failing_suite.parent / "tests" / "test_wallet.py", "assert balance >= 0")
    with Session(str(failing_suite)) as session:
        assert [(t.nodeid, t.outcome) for t in session.index.tests] == [
            ("tests/test_shop.py::test_known_price", "passed"),
            ("tests/test_shop.py::test_total", "failed"),
            ("tests/test_shop.py::test_missing_price", "failed"),
            ("tests/test_shop.py::test_last", "passed"),
            ("tests/test_wallet.py::test_withdraw", "failed"),
        ]
        tests = session.index.tests
        assert all(a.end < b.start for a, b in zip(tests, tests[1:]))
        failures = session.index.failures()
        assert [(f["nodeid"], f["type"], f["line"]) for f in failures] == [
            ("tests/test_shop.py::test_total", "AssertionError", assert_line),
            ("tests/test_shop.py::test_missing_price", "KeyError", raise_line),
            ("tests/test_wallet.py::test_withdraw", "AssertionError", check_line),
        ]

        stop = session.goto_failure(0)
        assert (stop.file, stop.line, stop.function) == (str(tests_file), assert_line, "test_total")
        assert stop.reason == "failure" and tests[1].start < stop.position < tests[1].end
        frame = session.state()["frames"][0]
        assert {local["name"]: local["repr"] for local in frame["locals"]} == {
            "assert left: total": "9", "assert right: 10": "10", "cart": "['apple', 'pear']", "total": "9"}

        stop = session.goto_failure(1)
        assert (stop.file, stop.line, stop.function) == (str(prices), raise_line, "price_of")
        assert stop.reason == "failure" and tests[2].start < stop.position < tests[2].end
        helper = session.state()["frames"][0]
        assert {local["name"]: local["repr"] for local in helper["locals"]} == {"item": "'kiwi'",
                                                                               "table": "{'apple': 3}"}
        test = session.state(1)["frames"][1]  # the locals of the frame asked for
        assert (test["function"], test["line"]) == ("test_missing_price", line_of(tests_file, 'price_of("kiwi"'))
        assert {local["name"]: local["repr"] for local in test["locals"]}["table"] == "{'apple': 3}"


def test_goto_failure_is_the_run_that_failed_not_a_later_run_in_teardown(failing_suite):
    from retrace_core.control.session import Session

    wallet = failing_suite.parent / "tests" / "test_wallet.py"
    with Session(str(failing_suite)) as session:
        stop = session.goto_failure(2)
        assert (stop.file, stop.line, stop.function) == (str(wallet), line_of(wallet, "assert balance >= 0"), "check")
        frames = session.state()["frames"]
        assert frames[1]["function"] == "test_withdraw"  # not the fixture `account`, tearing down
        assert {local["name"]: local["repr"] for local in frames[0]["locals"]} == {
            "assert left: balance": "-2", "assert right: 0": "0", "balance": "-2"}  # not 5


def test_inspect_at_failure_names_the_failing_test(failing_suite):
    run = cli("inspect", str(failing_suite), "--at", "failure", "--json")
    assert run.status == 0, run.stderr
    state = json.loads(run.stdout)
    exception = state["exception"]
    assert (exception["type"], exception["message"]) == ("AssertionError", "assert 9 == 10")
    assert exception["nodeid"] == "tests/test_shop.py::test_total"
    tests_file = failing_suite.parent / "tests" / "test_shop.py"
    assert (exception["file"], exception["line"]) == (str(tests_file), line_of(tests_file, "assert total == 10"))
    assert state["reason"] == "failure" and state["frames"][0]["function"] == "test_total"
    assert state["tests"] == [{"nodeid": "tests/test_shop.py::test_known_price", "outcome": "passed"},
                              {"nodeid": "tests/test_shop.py::test_total", "outcome": "failed"},
                              {"nodeid": "tests/test_shop.py::test_missing_price", "outcome": "failed"},
                              {"nodeid": "tests/test_shop.py::test_last", "outcome": "passed"},
                              {"nodeid": "tests/test_wallet.py::test_withdraw", "outcome": "failed"}]

    text = cli("inspect", str(failing_suite), "--at", "failure")
    assert "test tests/test_shop.py::test_total failed with AssertionError: assert 9 == 10" in text.stdout


def test_a_test_stopped_by_pytest_exit_is_interrupted_and_a_strict_xpass_is_explained(record, write_program):
    from retrace_core.control.session import EngineError, Session

    write_program("""
        import pytest

        def test_a():
            assert 1

        @pytest.mark.xfail(strict=True)
        def test_b():
            assert 1

        def test_stop():
            pytest.exit("enough")
    """, name="test_exit.py")
    run = record("-m", "pytest", "test_exit.py", "-q", "-p", "no:cacheprovider")
    with Session(str(run.path)) as session:
        outcomes = [(test.nodeid.rpartition("::")[2], test.outcome) for test in session.index.tests]
        assert outcomes == [("test_a", "passed"), ("test_b", "failed"), ("test_stop", "interrupted")]
        assert session.index.tests[-1].end == session.index.end
        with pytest.raises(EngineError, match="test_exit.py::test_b failed without an exception"):
            session.goto_failure()
