"""SourceView, the source pane, in a tiny App that mounts only it."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from textual.app import App, ComposeResult

from retrace_tui.widgets.source import SourceView

SMALL = "import os\n\n\ndef f(x):\n    return x + 1  # done\n\nprint(f(1))\n"
LONG = "".join(f"value_{n} = {n}\n" for n in range(1, 5001))


class Harness(App):
    """Mounts one SourceView and collects the breakpoint requests it posts."""

    def __init__(self) -> None:
        super().__init__()
        self.toggled: list[SourceView.BreakpointToggled] = []

    def compose(self) -> ComposeResult:
        yield SourceView()

    def on_source_view_breakpoint_toggled(self, message: SourceView.BreakpointToggled) -> None:
        self.toggled.append(message)


def synchronously(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async test with asyncio.run (no pytest async plugin is assumed)."""

    def run() -> None:
        asyncio.run(test())

    return run


def rows(view: SourceView) -> list[str]:
    """The visible lines as text, as the compositor would get them."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


def row_of(view: SourceView, line: int) -> str:
    """The visible row showing `line` (fails if it is not on screen)."""
    (row,) = [text for text in rows(view) if text[1:].lstrip().startswith(f"{line}") and
              text[1:].lstrip()[len(str(line))] in "▶ "]
    return row


@synchronously
async def test_current_line_is_marked_with_its_number() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("prog.py", SMALL, 4)
        await pilot.pause()
        lines = rows(view)
        assert lines[3].startswith(" 4▶ def f(x):")
        assert lines[0].startswith(" 1  import os")
        assert sum("▶" in line for line in lines) == 1
        assert view.file == "prog.py" and view.current_line == 4 and view.cursor_line == 4
        assert "▶" in app.export_screenshot()


@synchronously
async def test_breakpoints_show_a_marker_and_can_be_replaced() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("prog.py", SMALL, 4, {1, 5})
        await pilot.pause()
        assert [line[0] for line in rows(view)[:7]] == ["●", " ", " ", " ", "●", " ", " "]
        view.set_breakpoints({7})
        await pilot.pause()
        assert [line[0] for line in rows(view)[:7]] == [" ", " ", " ", " ", " ", " ", "●"]
        view.show("prog.py", SMALL, 5)  # same file, breakpoints not given: kept
        assert rows(view)[6].startswith("●7")
        view.show("other.py", SMALL, 5)  # another file: none until given
        assert all(line[0] == " " for line in rows(view))


@synchronously
async def test_show_scrolls_a_far_line_into_view_centred() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("long.py", LONG, 1)
        await pilot.pause()
        assert view.scroll_offset.y == 0
        view.show("long.py", LONG, 3000)
        await pilot.pause()
        height = view.scrollable_content_region.height
        top = view.scroll_offset.y
        assert top <= 2999 < top + height
        assert abs((2999 - top) - height // 2) <= 1
        assert "▶ value_3000 = 3000" in row_of(view, 3000)
        # Already visible: no jump.
        view.show("long.py", LONG, 3002)
        await pilot.pause()
        assert view.scroll_offset.y == top


@synchronously
async def test_x_and_shift_x_post_the_cursor_line() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("prog.py", SMALL, 4)
        view.focus()
        await pilot.press("down", "x", "X")
        await pilot.pause()
        got = [(m.file, m.line, m.with_condition, m.control) for m in app.toggled]
        assert got == [("prog.py", 5, False, view), ("prog.py", 5, True, view)]


@synchronously
async def test_cursor_keys_move_the_cursor_and_keep_it_visible() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("long.py", LONG, 1)
        view.focus()
        await pilot.press("down", "down")
        assert view.cursor_line == 3
        await pilot.press("up")
        assert view.cursor_line == 2
        await pilot.press("pagedown")
        assert view.cursor_line > 10
        await pilot.press("end")
        await pilot.pause()
        assert view.cursor_line == 5000
        assert "value_5000 = 5000" in row_of(view, 5000)
        await pilot.press("down")  # clamped
        assert view.cursor_line == 5000
        await pilot.press("home")
        await pilot.pause()
        assert view.cursor_line == 1 and view.scroll_offset.y == 0
        await pilot.press("up")
        assert view.cursor_line == 1


@synchronously
async def test_click_moves_the_cursor() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("prog.py", SMALL, 1)
        await pilot.pause()
        # Content starts inside the one-cell border.
        await pilot.click(SourceView, offset=(10, 1 + 4))
        assert view.cursor_line == 5
        assert app.toggled == []


@synchronously
async def test_five_thousand_lines_render_and_scroll() -> None:
    app = Harness()
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.query_one(SourceView)
        view.show("long.py", LONG, 2500)
        await pilot.pause()
        assert view.virtual_size.height == 5000
        gutter = len("5000") + 3
        assert rows(view)[0][:gutter].strip().isdigit()
        view.scroll_to(y=4990, animate=False)
        await pilot.pause()
        assert rows(view)[-1].startswith(" 5000  value_5000 = 5000")
        assert view.cursor_line == 2500  # scrolling alone leaves the cursor be


@synchronously
async def test_long_lines_scroll_sideways_under_a_fixed_gutter() -> None:
    app = Harness()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(SourceView)
        view.show("wide.py", "x = 1\ny = '" + "abcdefghij" * 20 + "'\n", 2)
        await pilot.pause()
        view.scroll_to(x=5, animate=False)  # past "y = '"
        await pilot.pause()
        assert view.scroll_offset.x == 5
        assert rows(view)[1].startswith(" 2▶ abcdefghij")
        assert rows(view)[0].startswith(" 1  ")


@synchronously
async def test_tabs_crlf_and_leading_blank_lines_keep_line_numbers() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("tabs.py", "\n\r\nif True:\r\n\tpass\r\n", 4)
        await pilot.pause()
        lines = rows(view)
        assert lines[2].startswith(" 3  if True:")
        assert lines[3].startswith(" 4▶     pass")
        assert "\t" not in "".join(lines)
        assert view.virtual_size.height == 4


@synchronously
async def test_no_source_and_program_ended_placeholders() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("<frozen os>", None, 12)
        await pilot.pause()
        assert rows(view)[0].startswith("(no source for <frozen os>)")
        assert view.current_line is None
        await pilot.press("x")
        assert app.toggled == []
        view.show(None, None, None)
        assert rows(view)[0].startswith("(the program has ended)")
        view.show("gen.py", None, None, placeholder="(generated code)")
        assert rows(view)[0].startswith("(generated code)")
        view.show("prog.py", SMALL, 2)
        assert rows(view)[1].startswith(" 2▶")


@synchronously
async def test_show_before_mount_is_centred_once_sized() -> None:
    class Early(App):
        def compose(self) -> ComposeResult:
            view = SourceView()
            view.show("long.py", LONG, 4000)
            yield view

    app = Early()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(SourceView)
        assert "▶ value_4000" in row_of(view, 4000)


@synchronously
async def test_pygments_style_and_app_theme_recolour_the_code() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("prog.py", SMALL, 4)
        await pilot.pause()

        def colours(y: int) -> list:
            return [(segment.text, segment.style.color, segment.style.bgcolor) for segment in view.render_line(y)]

        before, text = colours(0), view.render_line(0).text
        view.set_pygments_style("default")
        assert colours(0) != before
        assert view.render_line(0).text == text
        before = colours(0)
        app.theme = "textual-light"
        await pilot.pause()
        assert colours(0) != before


@synchronously
async def test_current_and_focused_cursor_lines_have_their_own_backgrounds() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("prog.py", SMALL, 4)
        view.focus()
        await pilot.press("down")

        def backgrounds(y: int) -> set:
            return {segment.style.bgcolor for segment in view.render_line(y)}

        plain, current, cursor = backgrounds(0), backgrounds(3), backgrounds(4)
        assert len(plain) == len(current) == len(cursor) == 1  # across the whole width
        assert len(plain | current | cursor) == 3
        app.set_focus(None)
        await pilot.pause()
        assert backgrounds(4) == plain


@synchronously
async def test_click_on_the_marker_column_toggles_a_breakpoint() -> None:
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(SourceView)
        view.show("prog.py", SMALL, 1)
        await pilot.pause()
        await pilot.click(SourceView, offset=(1, 1 + 6))  # inside the border: column 0, line 7
        assert [(m.line, m.with_condition) for m in app.toggled] == [(7, False)]
