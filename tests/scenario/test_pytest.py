"""Recording a pytest run, with the options people use in CI.

pytest prints and exits exactly as it does alone; each test that runs leaves a start and
an end marker, in order, with its outcome; and the recording replays exactly (the
`record` fixture verifies it). The engine at a failing test: test_pytest_failures.py.
"""
import json

import pytest

from scenario.pytest_projects import (
    QUIET,
    end_marker,
    line_of,
    normalised,
    plain_pytest,
    project,
    pytest_recorded,
    ran,
)

CART = {
    "test_cart.py": """
        def test_add():
            assert 1 + 1 == 2

        def test_total():
            prices = [3, 4]
            assert sum(prices) == 8

        def test_empty():
            assert [] == []
    """,
    "test_stock.py": """
        def test_stock_count():
            assert len("abc") == 3

        def test_stock_slow():
            assert True
    """,
}


# -- selecting and stopping ---------------------------------------------------------------


def test_exitfirst_stops_at_the_first_failure_and_later_tests_leave_no_marker(record, tmp_path):
    project(tmp_path, CART)
    run = pytest_recorded(record, tmp_path, "-x", *QUIET)
    assert run.status == 1 and "stopping after 1 failures" in run.stdout
    assert ran(run) == [("test_cart.py::test_add", "passed"), ("test_cart.py::test_total", "failed")]


def test_keyword_expression_only_selected_tests_leave_markers(record, tmp_path):
    project(tmp_path, CART)
    run = pytest_recorded(record, tmp_path, "-k", "stock and not slow or empty", *QUIET)
    assert run.status == 0 and "3 deselected" in run.stdout
    assert ran(run) == [("test_cart.py::test_empty", "passed"), ("test_stock.py::test_stock_count", "passed")]


def test_a_node_id_on_the_command_line_runs_only_that_test(record, tmp_path):
    project(tmp_path, CART)
    run = pytest_recorded(record, tmp_path, "test_cart.py::test_total", *QUIET)
    assert run.status == 1
    assert ran(run) == [("test_cart.py::test_total", "failed")]


# -- what pytest prints -----------------------------------------------------------------------


@pytest.mark.parametrize("verbosity", ["-q", "-v", "-vv --color=yes"])
def test_quiet_and_verbose_print_what_pytest_prints_alone(record, tmp_path, verbosity):
    project(tmp_path, CART)
    run = pytest_recorded(record, tmp_path, *verbosity.split(), "-ra", *QUIET)
    assert run.status == 1
    if verbosity == "-v":
        assert "test_cart.py::test_total FAILED" in run.stdout
    if "--color=yes" in verbosity:
        assert "\x1b[" in run.stdout
    else:
        assert "FAILED test_cart.py::test_total - assert 7 == 8" in run.stdout
    assert ran(run) == [("test_cart.py::test_add", "passed"), ("test_cart.py::test_total", "failed"),
                        ("test_cart.py::test_empty", "passed"), ("test_stock.py::test_stock_count", "passed"),
                        ("test_stock.py::test_stock_slow", "passed")]


def test_short_tracebacks(record, tmp_path):
    project(tmp_path, {
        "helpers.py": """
            def parse(text):
                return int(text)
        """,
        "test_parse.py": """
            from helpers import parse

            def test_parse():
                assert parse("12") == 12

            def test_parse_word():
                assert parse("twelve") == 12
        """,
    })
    run = pytest_recorded(record, tmp_path, "--tb=short", *QUIET)
    assert run.status == 1 and "ValueError: invalid literal for int()" in run.stdout
    assert ran(run) == [("test_parse.py::test_parse", "passed"), ("test_parse.py::test_parse_word", "failed")]
    failure = end_marker(run, "test_parse.py::test_parse_word")["failure"]
    assert failure["type"] == "ValueError" and failure["message"].startswith("invalid literal for int()")
    helpers, tests = tmp_path / "helpers.py", tmp_path / "test_parse.py"
    assert failure["frames"][-1] == [str(helpers), line_of(helpers, "return int(text)")]
    assert [str(tests), line_of(tests, 'parse("twelve")')] in failure["frames"]


def test_without_the_cache_provider_no_cache_is_written(record, tmp_path):
    project(tmp_path, CART)
    run = pytest_recorded(record, tmp_path, "-q", "-p", "no:cacheprovider")
    assert run.status == 1
    assert not (tmp_path / ".pytest_cache").exists()
    assert len(ran(run)) == 5


def test_with_the_cache_provider_last_failed_works_after_recording(record, tmp_path):
    project(tmp_path, CART)
    run = record("-m", "pytest", "-q", cwd=tmp_path)
    assert run.status == 1
    lastfailed = json.loads((tmp_path / ".pytest_cache" / "v" / "cache" / "lastfailed").read_text())
    assert lastfailed == {"test_cart.py::test_total": True}
    again = pytest_recorded(record, tmp_path, "--lf", name="lf.retrace")
    assert "run-last-failure: rerun previous 1 failure" in again.stdout
    assert ran(again) == [("test_cart.py::test_total", "failed")]


# -- kinds of tests -------------------------------------------------------------------------


def test_parametrized_tests_have_their_parameters_in_the_node_id(record, tmp_path):
    project(tmp_path, {"test_params.py": """
        import pytest

        @pytest.mark.parametrize("n, expected", [(1, 2), (2, 4), (3, 7)])
        def test_double(n, expected):
            assert n * 2 == expected

        @pytest.mark.parametrize("word", ["a b", "x::y", "dash-ed"], ids=["space", "colons", None])
        @pytest.mark.parametrize("count", [0, 1])
        def test_words(word, count):
            assert word * count == word[:len(word) * count]

        class TestCart:
            @pytest.mark.parametrize("item", ["pear"])
            def test_in_class(self, item):
                assert item
    """})
    run = pytest_recorded(record, tmp_path, "-v", *QUIET)
    assert run.status == 1
    assert ran(run) == [
        ("test_params.py::test_double[1-2]", "passed"),
        ("test_params.py::test_double[2-4]", "passed"),
        ("test_params.py::test_double[3-7]", "failed"),
        ("test_params.py::test_words[0-space]", "passed"),
        ("test_params.py::test_words[0-colons]", "passed"),
        ("test_params.py::test_words[0-dash-ed]", "passed"),
        ("test_params.py::test_words[1-space]", "passed"),
        ("test_params.py::test_words[1-colons]", "passed"),
        ("test_params.py::test_words[1-dash-ed]", "passed"),
        ("test_params.py::TestCart::test_in_class[pear]", "passed"),
    ]
    assert end_marker(run, "test_params.py::test_double[3-7]")["failure"]["message"] == "assert (3 * 2) == 7"


def test_skipped_and_xfail_tests(record, tmp_path):
    """skip, skipif and pytest.skip() are "skipped"; an xfail test that fails (XFAIL) is
    reported "skipped" too (pytest's report says skipped); one that passes (XPASS) is
    "passed", and "failed" when the xfail is strict."""
    project(tmp_path, {"test_skips.py": """
        import sys
        import pytest

        @pytest.mark.skip(reason="not today")
        def test_skip():
            raise AssertionError("never runs")

        @pytest.mark.skipif(sys.version_info > (3,), reason="python 3")
        def test_skipif():
            raise AssertionError("never runs")

        def test_skip_inside():
            pytest.skip("decided at run time")

        @pytest.mark.xfail(reason="known bug")
        def test_xfail():
            assert 1 == 2

        @pytest.mark.xfail(reason="fixed already")
        def test_xpass():
            assert 1 == 1

        @pytest.mark.xfail(strict=True, reason="must fail")
        def test_xpass_strict():
            assert 1 == 1

        def test_plain():
            assert True
    """})
    run = pytest_recorded(record, tmp_path, "-ra", *QUIET)
    assert run.status == 1
    assert "1 failed, 1 passed, 3 skipped, 1 xfailed, 1 xpassed" in run.stdout
    assert ran(run) == [
        ("test_skips.py::test_skip", "skipped"),
        ("test_skips.py::test_skipif", "skipped"),
        ("test_skips.py::test_skip_inside", "skipped"),
        ("test_skips.py::test_xfail", "skipped"),
        ("test_skips.py::test_xpass", "passed"),
        ("test_skips.py::test_xpass_strict", "failed"),
        ("test_skips.py::test_plain", "passed"),
    ]
    assert "failure" not in end_marker(run, "test_skips.py::test_xfail")


# -- fixtures ----------------------------------------------------------------------------------


FIXTURES = {
    "conftest.py": """
        import pytest

        @pytest.fixture
        def resource():
            open("setup.txt", "w").close()
            yield "ready"
            open("teardown.txt", "w").close()

        @pytest.fixture
        def broken_teardown():
            yield 1
            raise RuntimeError("teardown broke")

        @pytest.fixture
        def broken_setup():
            raise OSError("setup broke")
    """,
    "test_fixtures.py": """
        def test_uses_resource(resource):
            assert resource == "ready"

        def test_broken_teardown(broken_teardown):
            assert broken_teardown == 1

        def test_broken_setup(broken_setup):
            pass

        def test_after():
            pass
    """,
}


def test_yield_fixture_teardown_runs_before_the_end_marker(record, tmp_path):
    project(tmp_path, FIXTURES)
    run = pytest_recorded(record, tmp_path, *QUIET)
    assert run.status == 1 and "3 passed, 2 errors" in run.stdout
    # pytest counts test_broken_teardown as passed and as an error, and test_broken_setup
    # as an error: the markers say "failed" for both
    assert ran(run) == [
        ("test_fixtures.py::test_uses_resource", "passed"),
        ("test_fixtures.py::test_broken_teardown", "failed"),
        ("test_fixtures.py::test_broken_setup", "failed"),
        ("test_fixtures.py::test_after", "passed"),
    ]
    tape = run.tape()
    opened = {event.arguments[0]: event.number for event in tape.events if event.function == "io.open"
              and event.arguments[0] in ("setup.txt", "teardown.txt")}
    (start, _, _), (end, _, _) = tape.markers[:2]
    assert start < opened["setup.txt"] < opened["teardown.txt"] <= end  # markers count the events before them

    teardown = end_marker(run, "test_fixtures.py::test_broken_teardown")["failure"]
    assert (teardown["type"], teardown["message"], teardown["when"]) == ("RuntimeError", "teardown broke", "teardown")
    conftest = tmp_path / "conftest.py"
    assert teardown["frames"][-1] == [str(conftest), line_of(conftest, "teardown broke")]
    setup = end_marker(run, "test_fixtures.py::test_broken_setup")["failure"]
    assert (setup["type"], setup["message"], setup["when"]) == ("OSError", "setup broke", "setup")
    assert setup["frames"][-1] == [str(conftest), line_of(conftest, "setup broke")]


def test_tmp_path_fixtures(record, tmp_path):
    project(tmp_path, {"test_files.py": """
        import pytest

        @pytest.fixture(scope="session")
        def shared(tmp_path_factory):
            folder = tmp_path_factory.mktemp("shared")
            (folder / "seed.txt").write_text("seed")
            return folder

        def test_write_and_read(tmp_path):
            (tmp_path / "notes.txt").write_text("héllo")
            assert (tmp_path / "notes.txt").read_text() == "héllo"
            assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]

        def test_shared(shared, tmp_path):
            assert (shared / "seed.txt").read_text() == "seed"
            assert not list(tmp_path.iterdir())

        def test_content(tmp_path):
            (tmp_path / "n.txt").write_text("one\\ntwo\\n")
            lines = (tmp_path / "n.txt").read_text().splitlines()
            assert len(lines) == 3
    """})
    # a fixed --basetemp, as in CI: the failure report shows the same tmp_path in both runs
    # (and pytest's numbered folders stay out of the shared /tmp/pytest-of-USER)
    arguments = ("-m", "pytest", "--basetemp", str(tmp_path / "basetemp"), *QUIET)
    run = record(*arguments, cwd=tmp_path)
    assert run.status == 1 and "assert 2 == 3" in run.stdout
    assert (tmp_path / "basetemp" / "test_write_and_read0" / "notes.txt").read_text() == "héllo"
    assert (tmp_path / "basetemp" / "shared0" / "seed.txt").read_text() == "seed"
    alone = plain_pytest(tmp_path, *arguments[2:])
    assert (run.status, normalised(run.stdout)) == (alone.status, normalised(alone.stdout))
    assert ran(run) == [("test_files.py::test_write_and_read", "passed"), ("test_files.py::test_shared", "passed"),
                        ("test_files.py::test_content", "failed")]


CAPTURING = {"test_output.py": """
    import os
    import sys

    def test_capsys(capsys):
        print("to stdout")
        sys.stderr.write("to stderr\\n")
        out, err = capsys.readouterr()
        assert (out, err) == ("to stdout\\n", "to stderr\\n")
        print("after")
        assert capsys.readouterr().out == "after\\n"

    def test_capfd(capfd):
        print("printed", flush=True)
        os.write(1, b"raw fd 1\\n")
        os.write(2, b"raw fd 2\\n")
        out, err = capfd.readouterr()
        assert out == "printed\\nraw fd 1\\n" and err == "raw fd 2\\n"

    def test_capfd_disabled(capfd):
        with capfd.disabled():
            print("straight to the terminal")

    def test_fails_with_output():
        print("shown in the report")
        sys.stderr.write("err shown too\\n")
        assert 2 + 2 == 5
"""}


@pytest.mark.parametrize("capture", ["--capture=fd", "-s"])
def test_capsys_and_capfd(record, tmp_path, capture):
    project(tmp_path, CAPTURING)
    run = pytest_recorded(record, tmp_path, capture, *QUIET)
    assert run.status == 1 and "straight to the terminal" in run.stdout
    if capture != "-s":
        assert "Captured stdout call" in run.stdout and "shown in the report" in run.stdout
    assert ran(run) == [("test_output.py::test_capsys", "passed"), ("test_output.py::test_capfd", "passed"),
                        ("test_output.py::test_capfd_disabled", "passed"),
                        ("test_output.py::test_fails_with_output", "failed")]


def test_monkeypatch_setenv_and_setattr_are_undone_after_each_test(record, tmp_path):
    project(tmp_path, {
        "settings.py": """
            import os

            TIMEOUT = 30

            def mode():
                return os.environ.get("SHOP_MODE", "live")
        """,
        "test_patch.py": """
            import os
            import settings

            def test_patched(monkeypatch):
                monkeypatch.setenv("SHOP_MODE", "test")
                monkeypatch.setattr(settings, "TIMEOUT", 1)
                monkeypatch.setattr("settings.mode", lambda: "fake")
                monkeypatch.delenv("HOME", raising=False)
                assert settings.mode() == "fake" and os.environ["SHOP_MODE"] == "test"
                assert settings.TIMEOUT == 1 and "HOME" not in os.environ

            def test_restored():
                assert settings.TIMEOUT == 30 and settings.mode() == "live"
                assert "SHOP_MODE" not in os.environ and "HOME" in os.environ

            def test_chdir(monkeypatch, tmp_path):
                monkeypatch.chdir(tmp_path)
                assert os.getcwd() == str(tmp_path)

            def test_cwd_restored():
                assert os.path.exists("settings.py")

            def test_patch_is_gone():
                mode = settings.mode()
                assert mode == "test"
        """,
    })
    env = {"HOME": str(tmp_path)}
    run = pytest_recorded(record, tmp_path, "--basetemp", str(tmp_path / "basetemp"), *QUIET, env=env)
    assert run.status == 1 and "AssertionError: assert 'live' == 'test'" in run.stdout
    assert ran(run) == [("test_patch.py::test_patched", "passed"), ("test_patch.py::test_restored", "passed"),
                        ("test_patch.py::test_chdir", "passed"), ("test_patch.py::test_cwd_restored", "passed"),
                        ("test_patch.py::test_patch_is_gone", "failed")]


def test_markers_are_written_with_plugin_autoload_disabled(record, tmp_path):
    project(tmp_path, CART)
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    run = pytest_recorded(record, tmp_path, "-v", *QUIET, env=env)
    assert run.status == 1 and "plugins:" not in run.stdout
    assert [outcome for _, outcome in ran(run)] == ["passed", "failed", "passed", "passed", "passed"]
