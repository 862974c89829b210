"""The app as a user drives it: each key on real recordings, checked on what the screen shows."""
from __future__ import annotations

import textwrap

import pytest

from retrace_tui.app import RetraceApp
from retrace_tui.screens import HelpScreen, PromptScreen, TextScreen
from retrace_tui.widgets.source import SourceView
from retrace_tui.widgets.timeline import EventList, Timeline
from tui_helpers import drive, failing_line_number, press, settle

PROGRAM = textwrap.dedent("""\
    import json, time

    def total(values):
        result = 0
        for value in values:
            result += value
        return result

    def main():
        stamps = []
        for round_number in range(3):
            stamps.append(time.time())
            print("round", round_number, total(range(round_number + 2)))
        with open("data.json", "w") as handle:
            json.dump({"rounds": 3}, handle)
        return len(stamps)

    print("done", main())
""")


def line_of(text: str) -> int:
    return PROGRAM.splitlines().index(text) + 1


@pytest.fixture
def program_recording(record, write_program):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0, run.stderr
    return run.path


def source_row(app, line: int) -> str:
    source = app.query_one(SourceView)
    return source.render_line(line - 1 - round(source.scroll_y)).text


def where(app) -> tuple[int, str, int | None]:
    view = app.view
    return view.position, (view.source_file or "").rsplit("/", 1)[-1], view.current_line


async def move_source_cursor(pilot, line: int) -> None:
    """Focus the source pane and move its cursor to ``line`` with the arrow keys."""
    source = pilot.app.query_one(SourceView)
    source.focus()
    for _ in range(line - source.cursor_line):
        await pilot.press("down")
    assert source.cursor_line == line


def test_it_opens_at_the_failing_assertion_and_g_returns_there(quickstart_recording):
    line = failing_line_number(quickstart_recording)

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        assert where(app)[1:] == ("test_receipt.py", line)
        assert "▶" in source_row(app, line)
        assert "failure" in app.view.message and "AssertionError" in app.view.message
        assert {local["name"] for local in app.view.locals} >= {"cart", "expected_total", "receipt"}
        failure_position = app.view.position
        await press(pilot, "b")
        assert app.view.position < failure_position and app.view.current_line == line - 1
        await press(pilot, "g")
        assert (app.view.position, app.view.current_line) == (failure_position, line)

    drive(RetraceApp(str(quickstart_recording)), script)


def test_next_back_step_and_finish(program_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        assert app.view.position == 1 and app.view.current_line == 1
        await press(pilot, "n", "n", "n")
        assert app.view.current_line == line_of('print("done", main())')
        assert "▶" in source_row(app, app.view.current_line)
        await press(pilot, "s")
        assert app.view.current_line == line_of("    stamps = []")
        assert [frame["function"] for frame in app.view.frames] == ["main", "<module>"]
        await press(pilot, "n", "n", "n")
        call_line = line_of('        print("round", round_number, total(range(round_number + 2)))')
        assert app.view.current_line == call_line
        at_call = app.view.position
        await press(pilot, "s")
        assert app.view.frames[0]["function"] == "total"
        await press(pilot, "S")
        assert (app.view.position, app.view.current_line) == (at_call, call_line)
        await press(pilot, "s", "f")
        assert app.view.frames[0]["function"] == "main" and app.view.position > at_call
        await press(pilot, "F")
        assert app.view.frames[0]["function"] == "<module>"
        assert app.view.current_line == line_of('print("done", main())')
        await press(pilot, "n")
        assert app.view.message.startswith("next")
        await press(pilot, "b")
        assert app.view.current_line == line_of('print("done", main())')
        assert "back:" in app.view.message

    drive(RetraceApp(str(program_recording)), script)


def test_a_breakpoint_from_the_source_cursor_then_continue_both_ways(program_recording):
    target = line_of("        result += value")

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await move_source_cursor(pilot, target)
        await press(pilot, "x")
        assert "●" in source_row(app, target)
        assert "breakpoint set" in app.query_one("#status").render().plain
        hits = []
        for _ in range(3):
            await press(pilot, "c")
            hits.append(app.view.position)
            assert (app.view.current_line, app.view.frames[0]["function"]) == (target, "total")
            assert app.view.message.startswith("breakpoint at program.py")
        assert hits == sorted(hits) and len(set(hits)) == 3
        await press(pilot, "C")
        assert app.view.position == hits[1]
        await press(pilot, "x")  # off again: continue runs to the end
        await press(pilot, "c")
        assert app.view.finished and "end of recording" in app.view.message

    drive(RetraceApp(str(program_recording)), script)


def test_a_conditional_breakpoint_asks_for_its_condition(program_recording):
    target = line_of("        result += value")

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await move_source_cursor(pilot, target)
        await pilot.press("X")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"value == 2", "enter")
        await pilot.pause()
        await press(pilot, "c")
        assert app.view.current_line == target
        assert {local["name"]: local["repr"] for local in app.view.locals}["value"] == "2"

    drive(RetraceApp(str(program_recording)), script)


def test_events_timeline_scrubbing_and_jumping(program_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        # The current event is the next to happen: `]` goes to the line that makes it.
        start = app.view.event
        await press(pilot, "]")
        first = app.view.event
        assert first >= start and app.view.message == f"event {first}" and app.view.position > 1
        await press(pilot, "]")
        assert app.view.event > first
        second_position = app.view.position
        await press(pilot, "[")
        assert app.view.event == first and app.view.position < second_position
        await press(pilot, "t")
        assert isinstance(app.focused, EventList)
        timeline = app.query_one(Timeline)
        # The debugger goes to the line that makes the selected event (one line can make
        # several; events made before the program's first line go to line 1).
        await press(pilot, "down", "down")
        selected = timeline.selected
        assert app.view.position == max(selected.position, 1)
        assert app.view.event <= selected.number
        await press(pilot, "end")
        assert app.view.position == timeline.selected.position
        await press(pilot, "home", "enter")
        assert timeline.selected.number == 1 and app.view.position == 1

    drive(RetraceApp(str(program_recording)), script)


def test_evaluate_help_full_values_and_quit(program_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await press(pilot, "n", "n", "n", "s", "n", "n", "n")
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"len(stamps) * 10", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        assert "10" in str(app.screen.query_one("VerticalScroll > Static").render())
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("VerticalScroll > Static").render())
        for description in ("Next", "Back", "Step back", "Rev. continue", "Evaluate", "Timeline"):
            assert description in shown
        await pilot.press("escape")
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0

    drive(RetraceApp(str(program_recording)), script)


def test_the_theme_is_switched_and_remembered(program_recording, tmp_path):
    from retrace_tui import theming

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        assert app.theme == "retrace-dark"
        app.theme = "retrace-light"
        await pilot.pause()
        assert theming.saved_theme() == "light"

    drive(RetraceApp(str(program_recording)), script)
    assert theming.resolve(None, theming.load_themes()).short_name == "light"


def test_several_processes_open_a_picker(tmp_path, write_program, isolated_python):
    import subprocess

    from textual.widgets import OptionList

    from conftest import clean_environment
    from retrace_tui.screens import ProcessPicker

    write_program("""
        import subprocess, sys
        subprocess.run([sys.executable, "-c", "print('from the child')"], check=True)
        print("parent done")
    """)
    # Python children are recorded through the hook (`retrace-tui install`), in a Python of
    # its own: other tests' processes started meanwhile would see it.
    def hook(command: str) -> int:
        return subprocess.run([isolated_python, "-m", "retrace_tui", command], env=clean_environment(None),
                              capture_output=True, timeout=120).returncode

    assert hook("install") == 0
    try:
        ran = subprocess.run([isolated_python, "program.py"], cwd=tmp_path, capture_output=True, text=True,
                             env=clean_environment({"RETRACE_RECORDING": "run.retrace"}), timeout=120)
    finally:
        assert hook("uninstall") == 0
    assert ran.returncode == 0, ran.stderr
    recording = tmp_path / "run.retrace"

    async def script(pilot):
        app = pilot.app
        await pilot.pause()
        assert isinstance(app.screen, ProcessPicker)
        options = app.screen.query_one(OptionList)
        assert options.option_count == 2
        labels = [str(options.get_option_at_index(i).prompt) for i in range(2)]
        assert "program.py" in labels[0] and "from the child" in labels[1]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.view.pid == int(options.get_option_at_index(1).id)
        assert "pid" in app.query_one("#status").render().plain

    drive(RetraceApp(str(recording)), script)


def test_a_divergence_shows_its_report_and_the_run_before_it_stays_usable(record, write_program):
    write_program("""
        import sqlite3
        print("before the database")
        connection = sqlite3.connect(":memory:"); connection.execute("create table t (b blob)"); connection.execute("insert into t values (x'00')"); connection.blobopen("t", "b", 1)
        print("after")
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        assert isinstance(app.screen, TextScreen)
        report = str(app.screen.query_one("VerticalScroll > Static").render())
        assert "sqlite3" in report
        await pilot.press("escape")
        await press(pilot, "n")
        assert app.view.current_line == 3 and not app.view.finished
        # On to the end: it is where the replay diverged, not the recording's end.
        await press(pilot, "c")
        assert app.view.finished and "the replay diverged at event" in app.view.message, app.view.message

    drive(RetraceApp(str(run.path)), script)


def test_failures_cycle_with_g_and_G_and_are_listed_with_l(record, write_program):
    from textual.widgets import OptionList

    from retrace_tui.screens import FailureList

    write_program("""
        def test_first():
            value = 1
            assert value == 2

        def test_passes():
            assert True

        def test_second():
            items = [1, 2]
            assert len(items) == 3
    """, name="test_two.py")
    run = record("-m", "pytest", "test_two.py", "-q", "-p", "no:cacheprovider")
    assert run.status == 1

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        assert app.view.frames[0]["function"] == "test_first"
        assert "(1 of 2)" in app.view.message
        await press(pilot, "g")
        assert app.view.frames[0]["function"] == "test_second" and "(2 of 2)" in app.view.message
        await press(pilot, "g")
        assert app.view.frames[0]["function"] == "test_first"
        await press(pilot, "G")
        assert app.view.frames[0]["function"] == "test_second"
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, FailureList)
        assert app.screen.query_one(OptionList).option_count == 2
        await pilot.press("enter")
        await settle(pilot)
        assert app.view.frames[0]["function"] == "test_first"
        tests = [entry for entry in app.debugger.entries if entry.category == "test"]
        assert [(entry.call.rpartition("::")[2], entry.outcome) for entry in tests] == [
            ("test_first", "failed"), ("test_passes", "passed"), ("test_second", "failed")]
        assert all(entry.end > entry.position for entry in tests)  # drawn as ranges
        assert tests[0].end < tests[1].position < tests[1].end < tests[2].position

    drive(RetraceApp(str(run.path)), script)


def test_escape_cancels_a_long_move_and_the_debugger_stays_where_it_was(program_recording):
    target = line_of("        result += value")

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await press(pilot, "n")
        start = app.view.position
        # A condition that takes a while at every hit makes `c` slow enough to cancel.
        app.debugger.toggle_breakpoint(app.view.source_file, target, "sum(range(30_000_000)) < 0")
        await pilot.press("c")
        await pilot.pause(0.5)
        assert not app.engine.idle()
        assert "Esc cancels" in app.query_one("#status").render().plain
        await pilot.press("escape")
        await settle(pilot)
        assert app.view.position == start
        assert not app.view.finished

    drive(RetraceApp(str(program_recording)), script)


def test_long_timeline_jumps_after_opening_keep_the_app_responsive(quickstart_recording):
    """Moves that take snapshots after the loading screen has gone (it once froze the app)."""

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await press(pilot, "t", "home")
        assert app.view.position == 1
        await press(pilot, "end")
        assert app.view.event == app.view.events
        await press(pilot, "home", "g")
        assert app.view.reason == "failure"

    drive(RetraceApp(str(quickstart_recording)), script)


def test_a_slow_move_tick_that_runs_after_the_move_was_drawn_says_nothing(program_recording):
    # Found by a snapshot in CI: the tick of a move that took just about SLOW_MOVE ran
    # after the move had been drawn, while the engine thread was still finishing, and
    # left "working… (Esc cancels)" in the status line for good.
    import threading

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        release = threading.Event()
        app.engine.submit(lambda: release.wait(10), lambda _result: None, lambda _error: None)
        try:
            app._slow_timer = app.set_timer(100, app._say_working)  # a move's timer...
            app._show(app.view)  # ...the move is drawn, which stops it...
            app._say_working()  # ...and its tick, already on its way, runs after
            assert "working" not in app.query_one("#status").render().plain
        finally:
            release.set()

    drive(RetraceApp(str(program_recording)), script)
