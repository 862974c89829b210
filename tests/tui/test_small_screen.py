"""The debugger in an 80x24 terminal, as a new user follows the walkthrough there
(docs/getting-started.md): every key hint, value and file name readable."""
from __future__ import annotations

from retrace_tui.app import RetraceApp
from retrace_tui.screens import HelpScreen
from retrace_tui.widgets.source import SourceView
from retrace_tui.widgets.timeline import EventList, Timeline
from tui_helpers import drive, failing_line_number, press, screen_lines, screen_text, settle

SMALL = (80, 24)
PARTIAL_BLOCKS = "▁▂▃▄▅▆▇▉▊▋▌▍▎▏"  # what a scrollbar thumb's ends were drawn with


def current_line_visible(app) -> bool:
    source = app.query_one(SourceView)
    top, height = round(source.scroll_y), source.scrollable_content_region.height
    return top < source.current_line <= top + height


def test_the_walkthrough_at_80x24(quickstart_recording):
    receipt_source = (quickstart_recording.parent / "checkout" / "receipt.py").read_text().splitlines()
    discount_line = next(number for number, text in enumerate(receipt_source, 1)
                         if "discount += offer.discount_on(line.amount)" in text)

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        lines = screen_lines(app)
        assert len(lines) == 24
        footer = lines[-1]
        assert "? Help" in footer and "q Quit" in footer, footer
        # The source title keeps the file's name whole and cuts the folders before it.
        title = lines[0].split("Source")[1]
        assert title.lstrip().startswith("…/") and "/tests/test_receipt.py ─" in title, lines[0]
        text = screen_text(app)
        # The locals are readable: name = value, without the type, in a pane tall enough.
        assert "expected_total = Decimal('28.2" in text
        assert "… " in text and "library frames: pytest" in text  # the stack folds pytest and pluggy
        # No scrollbar glyphs inside the panes (the density strip's bars are the timeline's).
        for row in lines[:-6]:
            assert not any(glyph in row for glyph in PARTIAL_BLOCKS), row
        # Tab, Tab: the locals; receipt expands to its discount.
        await pilot.press("tab", "tab")
        locals_view = app.focused
        assert type(locals_view).__name__ == "LocalsView"
        node = next(child for child in locals_view.root.children if child.data.path == ["receipt"])
        locals_view.move_cursor(node)
        await press(pilot, "enter")
        # Down through receipt's fields as a user would (the failing assert's two sides
        # lead the locals, so the pane scrolls to show the last of them).
        for _ in range(12):
            if "discount = Decimal('13.49" in screen_text(app):
                break
            await press(pilot, "down")
        assert "discount = Decimal('13.49" in screen_text(app), "\n".join(screen_lines(app))
        await press(pilot, "b", "s")
        assert app.view.frames[0]["function"] == "build_receipt"
        source = app.query_one(SourceView)
        source.focus()
        for _ in range(discount_line - source.cursor_line):
            await pilot.press("down")
        assert source.cursor_line == discount_line
        await press(pilot, "x")
        # Set, not cleared: no breakpoint is left there by another test (drive's own state folder).
        assert f"breakpoint set at receipt.py:{discount_line}" in screen_lines(app)[-2]
        await press(pilot, "c")
        assert app.view.current_line == discount_line
        text = screen_text(app)
        # After c the locals of interest are on screen, below a stack of three rows.
        for shown in ("sku = 'beans'", "discount = Decimal('0.00')", "subtotal = Decimal("):
            assert shown in text, text
        assert current_line_visible(app)

    drive(RetraceApp(str(quickstart_recording)), script, size=SMALL)


def test_the_timeline_folds_to_its_current_event_and_opens_with_t(quickstart_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        timeline = app.query_one(Timeline)
        assert timeline.outer_size.height == 4
        assert sum("▶" in row for row in screen_lines(app)[-5:-2]) == 1  # the current event shows
        await pilot.press("t")
        await pilot.pause()
        assert timeline.outer_size.height >= 10
        await pilot.press("escape")  # nothing to cancel: the focus stays, and so does the height

    drive(RetraceApp(str(quickstart_recording)), script, size=SMALL)


def test_the_current_line_stays_on_screen_when_the_terminal_shrinks(quickstart_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        assert app.view.current_line == failing_line_number(quickstart_recording)
        await pilot.resize_terminal(80, 14)
        await pilot.pause(0.1)
        assert current_line_visible(app)
        assert "▶" in screen_text(app).split("Output")[0]

    drive(RetraceApp(str(quickstart_recording)), script, size=(120, 40))


def test_help_takes_every_key_of_a_burst(quickstart_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await pilot.press("question_mark", *["down"] * 40)
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        scroll = app.screen.query_one("KeyScroll")
        assert scroll.max_scroll_y > 10 and scroll.scroll_y == min(40, scroll.max_scroll_y)

    drive(RetraceApp(str(quickstart_recording)), script, size=SMALL)


def test_home_on_the_timeline_says_where_it_stands(quickstart_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await pilot.press("t")
        await press(pilot, "home")
        events = app.query_one(EventList)
        assert events.selected.number == 1
        # Event 1 (os.getcwd while Python starts) comes before any line of the program:
        # the status says so, and ▶ marks the next event, where the run stands.
        assert "event 1 was made before the program's first line" in app.view.message
        assert app.view.event == 2

    drive(RetraceApp(str(quickstart_recording)), script, size=SMALL)
