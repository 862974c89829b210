"""Just my code, search and what is remembered, on real recordings: a pytest run of a
small test file, stepped through with the keys a user presses."""
from __future__ import annotations

import textwrap
import threading
import time

import pytest

from retrace_tui import state
from retrace_tui.app import RetraceApp
from retrace_tui.screens import JumpList, PromptScreen
from retrace_tui.widgets.source import SourceView
from retrace_tui.widgets.stack import StackView
from retrace_tui.widgets.timeline import EventList, Timeline
from tui_helpers import drive, press, screen_text, settle

TESTS = textwrap.dedent("""\
    import time


    def helper(x):
        return x * 2


    def test_one():
        a = helper(1)
        assert a == 2


    def test_two():
        b = helper(time.time() > 0)
        assert b == 2
""")


def line_of(text: str) -> int:
    return TESTS.splitlines().index(text) + 1


@pytest.fixture
def pytest_recording(record, write_program):
    write_program(TESTS, "test_calc.py")
    run = record("-m", "pytest", "test_calc.py", "-q", "-p", "no:cacheprovider")
    assert run.status == 0, run.stdout + run.stderr
    return run.path


def at(app) -> tuple[str, int | None]:
    return (app.view.source_file or "").rsplit("/", 1)[-1], app.view.current_line


async def step_until(pilot, key: str, wanted: tuple[str, int], limit: int = 12) -> None:
    for _ in range(limit):
        if at(pilot.app) == wanted:
            return
        await press(pilot, key)
    assert at(pilot.app) == wanted


def test_steps_pass_over_pytest_and_the_stack_folds_it(pytest_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        # Nothing failed: the run starts in pytest's own code; n goes on to the user's.
        await press(pilot, "n")
        assert at(app)[0] == "test_calc.py" and "library code skipped" in app.view.message
        await step_until(pilot, "n", ("test_calc.py", line_of("    a = helper(1)")))
        stack = app.query_one(StackView)
        labels = [str(stack.get_option_at_index(i).prompt) for i in range(stack.option_count)]
        assert labels[0].startswith("#0 test_one") and labels[1].startswith("… ")
        assert "library frames: pytest" in labels[1] and len(labels) <= 3
        await press(pilot, "n")
        assert at(app) == ("test_calc.py", line_of("    assert a == 2"))
        # From the end of test_one, pytest runs: n lands in the next test, not in pluggy.
        await press(pilot, "n")
        assert at(app) == ("test_calc.py", line_of("    b = helper(time.time() > 0)"))
        assert "library code skipped" in app.view.message
        # And back: b goes to the last line of test_one.
        await press(pilot, "b")
        assert at(app) == ("test_calc.py", line_of("    assert a == 2"))
        # Enter on the folded row shows every frame.
        stack.focus()
        stack.highlighted = 1
        await press(pilot, "enter")
        assert stack.option_count == len(app.view.frames) > 3
        # J: just my code off; n from here stops in pytest's code.
        await press(pilot, "J")
        assert "just my code: off" in app.view.message
        await press(pilot, "n")
        assert at(app)[0] != "test_calc.py"
        assert "/_pytest/" in app.view.source_file or "/pluggy/" in app.view.source_file
        await press(pilot, "J")
        assert "just my code: on" in app.view.message

    drive(RetraceApp(str(pytest_recording)), script)


def test_all_code_starts_with_just_my_code_off(pytest_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await press(pilot, "n")
        assert at(app)[0] != "test_calc.py" and "library code skipped" not in app.view.message
        assert not any(str(app.query_one(StackView).get_option_at_index(i).prompt).startswith("…")
                       for i in range(app.query_one(StackView).option_count))

    drive(RetraceApp(str(pytest_recording), all_code=True), script)


def test_search_the_timeline_then_n_and_N_between_hits(pytest_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await pilot.press("slash")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"time.time")
        await press(pilot, "enter")
        events = app.query_one(EventList)
        hits = [events._entries[index] for index in events.hits]
        assert hits and all("time.time" in entry.call for entry in hits)
        assert app.query_one(Timeline).border_title.startswith("Timeline  /time.time: ")
        assert events.selected == hits[0] and events.has_focus
        assert app.view.message == f"event {hits[0].number}"
        if len(hits) > 1:
            await press(pilot, "n")
            assert events.selected == hits[1] and app.view.message == f"event {hits[1].number}"
            await press(pilot, "N")
            assert events.selected == hits[0]
        # Esc ends the search; n is the debugger's next again.
        await press(pilot, "escape")
        assert events.hits == [] and app.query_one(Timeline).border_title == "Timeline"
        assert events.has_focus
        position = app.view.position
        await press(pilot, "n")
        assert app.view.position > position and app.view.message.startswith("next")
        app.query_one(SourceView).focus()
        position = app.view.position
        await press(pilot, "n")
        assert app.view.position > position and app.view.message.startswith("next")

    drive(RetraceApp(str(pytest_recording)), script)


def test_a_search_without_hits_says_so(pytest_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await pilot.press("slash", *"no-such-call", "enter")
        await pilot.pause()
        assert "no timeline entry contains 'no-such-call'" in screen_text(app)

    drive(RetraceApp(str(pytest_recording)), script)


def test_breakpoints_and_bookmarks_come_back_when_the_recording_is_opened_again(pytest_recording, tmp_path):
    assert_line = line_of("    assert b == 2")
    marked = {}

    async def first(pilot):
        await settle(pilot)
        app = pilot.app
        await step_until(pilot, "n", ("test_calc.py", line_of("    a = helper(1)")))
        marked["position"] = app.view.position
        await pilot.press("m")
        assert isinstance(app.screen, PromptScreen)
        await press(pilot, "enter")  # the default name: the file and line
        source = app.query_one(SourceView)
        source.focus()
        for _ in range(assert_line - source.cursor_line):
            await pilot.press("down")
        await press(pilot, "x")
        assert app.debugger.breakpoint_lines(app.view.source_file) == {assert_line}
        await pilot.press("q")

    async def second(pilot):
        await settle(pilot)
        app = pilot.app
        assert [(line, condition) for _file, line, condition in app.debugger.session.breakpoints] == \
            [(assert_line, None)]
        await press(pilot, "c")
        assert at(app) == ("test_calc.py", assert_line)
        assert "●" in app.query_one(SourceView).render_line(
            assert_line - 1 - round(app.query_one(SourceView).scroll_y)).text
        await pilot.press("apostrophe")
        assert isinstance(app.screen, JumpList)
        assert f"test_calc.py:{line_of('    a = helper(1)')}" in screen_text(app)
        await press(pilot, "enter")
        assert app.view.position == marked["position"]

    drive(RetraceApp(str(pytest_recording)), first, state_home=tmp_path / "state")
    drive(RetraceApp(str(pytest_recording)), second, state_home=tmp_path / "state")  # as the first left it


LIBRARY = textwrap.dedent("""\
    def crunch(n):
        total = 0
        for i in range(n):
            total += i % 3
        return total
""")
PROGRAM = textwrap.dedent("""\
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "site-packages"))
    import slowlib  # noqa: E402


    def main():
        value = slowlib.crunch(100_000)
        value += slowlib.crunch(100_000)
        print(value)


    main()
""")
FIRST_CALL = PROGRAM.splitlines().index("    value = slowlib.crunch(100_000)") + 1


@pytest.fixture
def library_recording(record, write_program):
    write_program(LIBRARY, "site-packages/slowlib.py")  # a library by where it lies
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0 and run.stdout == "199998\n", run.stderr
    return run.path


class HeldStep:
    """Holds the run a step past library code makes (with the user's lines standing in
    for the breakpoints) until the keys pressed meanwhile have reached the app: however
    loaded the machine, the keys land while the step runs (a timed step could end first,
    and its end puts the cursor back on the current line)."""

    def __init__(self, session) -> None:
        self.release = threading.Event()
        real = session.continue_

        def held(*arguments, **named):
            self.release.wait(30)
            return real(*arguments, **named)

        session.continue_ = held

    async def step(self, pilot) -> None:
        """s into the library's loop: the step runs on to the next line of the program."""
        self.release.clear()
        await pilot.press("s")
        deadline = time.monotonic() + 30
        while pilot.app.engine.idle() and time.monotonic() < deadline:
            await pilot.pause(0.01)
        assert not pilot.app.engine.idle()

    async def end(self, pilot) -> None:
        await pilot.pause()
        self.release.set()
        await settle(pilot)


def test_x_and_m_while_a_step_skips_library_code(library_recording):
    # Such a step runs with a breakpoint on every line of the user's code in place of the
    # user's breakpoints. x or m pressed meanwhile changed that list (x's breakpoint was
    # lost when it was put back) and saved it: every line became a remembered breakpoint.
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        held = HeldStep(app.debugger.session)
        source = app.query_one(SourceView)
        source.focus()
        source.cursor_line = FIRST_CALL
        held.release.set()
        await press(pilot, "x", "c")
        source.cursor_line = FIRST_CALL
        await press(pilot, "x")
        await held.step(pilot)
        source.cursor_line = FIRST_CALL + 2
        await pilot.press("x")  # answered once the step has ended
        await held.end(pilot)
        assert app.view.current_line == FIRST_CALL + 1 and "library code skipped" in app.view.message
        assert source._breakpoints == {FIRST_CALL + 2} and "breakpoint set at program.py:11" in screen_text(app)
        position = app.view.position
        await held.step(pilot)
        await pilot.press("m")
        await held.end(pilot)
        await press(pilot, "enter")
        assert app.view.current_line == FIRST_CALL + 2
        saved = state.load(app.debugger._state_path)
        assert saved.breakpoints == [[app.view.source_file, FIRST_CALL + 2, None]]
        assert saved.bookmarks == [{"name": "program.py:10", "position": position}]  # where m was pressed
        await pilot.press("m")
        await pilot.pause()
        await press(pilot, "escape")  # m, then Esc: no bookmark
        assert state.load(app.debugger._state_path).bookmarks == saved.bookmarks == app.debugger.bookmarks

    drive(RetraceApp(str(library_recording)), script)
