"""The question keys on a real recording: w (watch), h (history), o (origin), L
(logpoint), and the value a call returned after n; driven as a user presses them."""
from __future__ import annotations

import textwrap

import pytest

from retrace_tui.app import RetraceApp
from retrace_tui.screens import JumpList, PromptScreen
from retrace_tui.widgets.locals import LocalsView
from retrace_tui.widgets.source import SourceView
from tui_helpers import drive, press, screen_text, settle

PROGRAM = textwrap.dedent("""\
    import time


    def discount(price, count):
        rate = 0.1
        if count > 5:
            rate = 0.35
        stamp = time.time()
        return round(price * (1 - rate), 2)


    def main():
        total = 0
        for count in (2, 6):
            total += discount(200.0, count)
        print("total", total)


    main()
""")
RETURN_LINE = PROGRAM.splitlines().index("    return round(price * (1 - rate), 2)") + 1
CALL_LINE = PROGRAM.splitlines().index("        total += discount(200.0, count)") + 1


@pytest.fixture
def discount_recording(record, write_program):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0 and run.stdout == "total 310.0\n", run.stderr
    return run.path


async def break_at(pilot, line: int, hits: int) -> None:
    """x on ``line``, then c ``hits`` times, then x again (the breakpoint cleared)."""
    source = pilot.app.query_one(SourceView)
    source.focus()
    source.cursor_line = line
    await press(pilot, "x", *["c"] * hits)
    source.cursor_line = line
    await press(pilot, "x")
    assert pilot.app.view.current_line == line


async def choose_local(pilot, name: str) -> None:
    tree = pilot.app.query_one(LocalsView)
    tree.focus()
    tree.move_cursor(next(node for node in tree.root.children if node.data and node.data.path == [name]))
    await pilot.pause()


def test_watch_then_reverse_continue_and_continue(discount_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await break_at(pilot, RETURN_LINE, 2)  # the second call: count 6, rate 0.35
        await choose_local(pilot, "rate")
        await press(pilot, "w")
        assert "watch 1: rate (c and C stop where it changes" in screen_text(app)
        await press(pilot, "C")
        assert app.view.current_line == RETURN_LINE - 2 and app.view.message.startswith("watch rate: 0.1 → 0.35")
        assert "rate: float = 0.1" in screen_text(app)  # before the line runs: the old value
        await press(pilot, "C")
        assert app.view.current_line == RETURN_LINE - 4 and "→ 0.1" in app.view.message
        await press(pilot, "c")  # right after the line that changed it
        assert app.view.current_line == RETURN_LINE - 3 and "→ 0.1 at program.py:" in app.view.message
        await pilot.press("W")
        await pilot.pause()
        assert isinstance(app.screen, JumpList) and "rate" in screen_text(app)
        await press(pilot, "enter")  # deletes it
        assert app.debugger.watches() == []

    drive(RetraceApp(str(discount_recording)), script)


def test_history_and_origin_of_a_local_jump_to_their_lines(discount_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await break_at(pilot, RETURN_LINE, 2)
        await choose_local(pilot, "rate")
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, JumpList)
        text = screen_text(app)
        assert "History of rate" in text and f"program.py:{RETURN_LINE - 4}  0.1" in text
        assert f"program.py:{RETURN_LINE - 2}  0.35  (was 0.1)" in text
        await pilot.press("down")
        await press(pilot, "enter")
        assert app.view.current_line == RETURN_LINE - 1  # seen after line 7 ran: the next line
        # o on stamp: assigned from time.time(), the clock event that brought the value in.
        await break_at(pilot, RETURN_LINE, 1)
        await choose_local(pilot, "stamp")
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, JumpList)
        text = screen_text(app)
        assert f"assigned at line {RETURN_LINE - 1}" in text and "came in with event" in text and "time.time" in text
        await pilot.press("down")
        await press(pilot, "enter")
        assert app.view.current_line == RETURN_LINE - 1  # the line that read the clock

    drive(RetraceApp(str(discount_recording)), script)


def test_a_logpoint_lists_every_run_of_the_line_and_filters(discount_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        source = app.query_one(SourceView)
        source.focus()
        source.cursor_line = RETURN_LINE
        await pilot.press("L")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"rate", "enter")
        await settle(pilot)
        assert isinstance(app.screen, JumpList)
        text = screen_text(app)
        assert "rate = 0.1" in text and "rate = 0.35" in text
        assert "logpoint program.py:9: 2 hits" in str(app.screen_stack[0].query_one("#status").render())
        await pilot.press(*"0.35")
        await pilot.pause()
        options = app.screen.query_one("OptionList")
        assert [str(options.get_option_at_index(i).prompt).split("  ")[-1] for i in range(options.option_count)] \
            == ["rate = 0.35"]
        await press(pilot, "enter")
        assert app.view.current_line == RETURN_LINE
        assert ("rate", "0.35") in [(value["name"], value["repr"]) for value in app.view.locals]
        assert app.debugger.saved.logpoints == [[app.view.source_file, RETURN_LINE, "rate"]]

    drive(RetraceApp(str(discount_recording)), script)


def test_the_value_a_call_returned_shows_after_n_at_80x24(discount_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await break_at(pilot, CALL_LINE, 1)
        await press(pilot, "n")
        assert "↩ discount() = 180.0" in screen_text(app)
        await press(pilot, "n", "n")
        assert "↩ discount() = 130.0" in screen_text(app)

    drive(RetraceApp(str(discount_recording)), script, size=(80, 24))


def test_a_failing_assert_shows_its_sides_among_the_locals(quickstart_recording):
    async def script(pilot):
        await settle(pilot)
        text = screen_text(pilot.app)
        assert "assert left: receipt.total" in text and "assert right: expected_total" in text

    drive(RetraceApp(str(quickstart_recording)), script)
