"""Recordings of several processes in the app: the picker shows the tree; a failed test
in a child process (a pytest-xdist worker) opens that process at the failure."""
from __future__ import annotations

from textual.widgets import OptionList

from conftest import cli
from retrace_tui.app import RetraceApp
from retrace_tui.screens import ProcessPicker
from tui_helpers import drive, screen_lines, screen_text, settle


def test_the_picker_shows_the_tree_with_commands_and_exit_statuses(record, write_program):
    write_program("""
        import os, subprocess, sys
        subprocess.run([sys.executable, "-c", "import sys; sys.exit(4)"])
        pid = os.fork()
        if pid == 0:
            os._exit(9)
        os.waitpid(pid, 0)
    """)
    run = record("program.py")
    root, child, forked = (process["pid"] for process in __import__("json").loads(
        cli("pids", str(run.path), "--json").stdout))

    async def script(pilot):
        app = pilot.app
        await pilot.pause()
        assert isinstance(app.screen, ProcessPicker)
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels[0].startswith(f"{root}  root") and labels[0].endswith("exit 0  program.py")
        assert labels[1].startswith(f"  {child}  subprocess at event ")
        assert labels[1].endswith("exit 4  -c 'import sys; sys.exit(4)'")
        assert labels[2].startswith(f"  {forked}  fork at event ") and "exit 9  program.py" in labels[2]
        # Its last row names its own keys, not the debugger's (which do nothing here).
        last = screen_lines(app)[-1]
        assert "Enter opens" in last and "q or Esc quits" in last
        assert "Next" not in screen_text(app) and "Evaluate" not in screen_text(app)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert app.view.pid == forked
        assert app.view.source_file == str(run.path.parent / "program.py")

    drive(RetraceApp(str(run.path)), script)


def test_a_failed_test_in_an_xdist_worker_opens_that_worker_at_the_failure(record, write_program):
    from scenario.test_processes import XDIST, XDIST_ENV, XDIST_TESTS

    write_program(XDIST_TESTS, name="test_xdist.py")
    run = record(*XDIST, env=XDIST_ENV, verify_after=False)  # test_processes.py verifies xdist runs
    assert run.status == 1, run.stderr
    processes = __import__("json").loads(cli("pids", str(run.path), "--json").stdout)
    worker = next(process["pid"] for process in processes if process["failed_tests"])
    source = run.path.parent / "test_xdist.py"

    async def script(pilot):
        app = pilot.app
        await settle(pilot, timeout=120)
        assert app.view.pid == worker
        assert (app.view.source_file, app.view.current_line) == (
            str(source), source.read_text().splitlines().index("    assert total + 1 == 43") + 1)

    drive(RetraceApp(str(run.path)), script)
