"""The timeline pane: a 10,000-event list on the Line API, selection, current event, density strip."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from retrace_tui.widgets.timeline import DensityStrip, EventList, Timeline, TimelineEntry

CATEGORIES = ["clock", "file", "socket", "random", "output", "process", "other"]


def many(count: int = 10_000, threads: int = 1) -> list[TimelineEntry]:
    """Entry n happens at position 10 * n."""
    return [TimelineEntry(n, 10 * n, 1 + n % threads, CATEGORIES[n % len(CATEGORIES)], f"call_{n}()", f"result_{n}")
            for n in range(1, count + 1)]


class TimelineApp(App):
    """Only a Timeline, and the messages it sent."""

    AUTO_FOCUS = None  # the tests decide whether the list has focus

    def __init__(self, entries: list[TimelineEntry], end_position: int) -> None:
        super().__init__()
        self.entries, self.end_position = entries, end_position
        self.scrubbed: list[TimelineEntry] = []
        self.jumped: list[TimelineEntry] = []

    def compose(self) -> ComposeResult:
        yield Timeline()

    def on_mount(self) -> None:
        self.query_one(Timeline).set_entries(self.entries, self.end_position)

    def on_timeline_scrubbed(self, message: Timeline.Scrubbed) -> None:
        self.scrubbed.append(message.entry)

    def on_timeline_jumped(self, message: Timeline.Jumped) -> None:
        self.jumped.append(message.entry)


def run(app: TimelineApp, script: Callable[[Pilot], Awaitable[None]], size: tuple[int, int] = (80, 20)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


def visible(app: App) -> list[str]:
    """The text of the list's lines on screen."""
    events = app.query_one(EventList)
    return [events.render_line(y).text for y in range(events.scrollable_content_region.height)]


def line_of(app: App, call: str) -> str:
    (line,) = [text for text in visible(app) if f" {call} " in text]
    return line


def test_ten_thousand_entries_render_and_keys_scrub_one_message_per_press() -> None:
    app = TimelineApp(many(), end_position=100_010)

    async def script(pilot: Pilot) -> None:
        timeline = app.query_one(Timeline)
        lines = visible(app)
        assert len(lines) == 19  # 20 rows less the density strip
        assert "call_1() → result_1" in lines[0] and "call_19()" in lines[18]
        assert "t1" not in lines[0]  # a single thread: no thread column

        timeline.set_current(10)  # event 1
        timeline.focus_list()
        await pilot.press("down")
        await pilot.pause()
        assert [entry.number for entry in app.scrubbed] == [2]
        assert timeline.selected == app.entries[1]

        await pilot.press("pagedown")
        await pilot.pause()
        assert [entry.number for entry in app.scrubbed] == [2, 21]
        assert "call_21()" in "".join(visible(app))

        await pilot.press("end")
        await pilot.pause()
        assert app.scrubbed[-1].number == 10_000 and len(app.scrubbed) == 3
        assert "call_10000() → result_10000" in visible(app)[-1]

        # Key repeat at the last event: still one message per press.
        await pilot.press("down", "down", "up")
        await pilot.pause()
        assert [entry.number for entry in app.scrubbed[3:]] == [10_000, 10_000, 9_999]

        await pilot.press("home")
        await pilot.pause()
        assert app.scrubbed[-1].number == 1 and "call_1()" in visible(app)[0]
        assert app.jumped == []

    run(app, script)


def test_enter_jumps_to_the_selected_entry() -> None:
    app = TimelineApp(many(100), end_position=1_010)

    async def script(pilot: Pilot) -> None:
        app.query_one(Timeline).set_current(50)  # event 5
        app.query_one(Timeline).focus_list()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert [entry.number for entry in app.scrubbed] == [6]
        assert [entry.number for entry in app.jumped] == [6]

    run(app, script)


def test_set_current_highlights_and_follows_unless_the_user_is_scrubbing() -> None:
    app = TimelineApp(many(), end_position=100_010)

    async def script(pilot: Pilot) -> None:
        timeline = app.query_one(Timeline)
        timeline.set_current(73_456)  # between events 7345 and 7346: the next to happen
        await pilot.pause()
        assert timeline.selected is not None and timeline.selected.number == 7346
        assert line_of(app, "call_7346()").startswith("▶")
        assert sum(line.startswith("▶") for line in visible(app)) == 1
        assert app.scrubbed == []  # the app's own moves are not echoed back

        timeline.set_current(5)  # before the first event: the first is next
        await pilot.pause()
        assert line_of(app, "call_1()").startswith("▶")
        timeline.set_current(10**9)  # after the last: the last stays current
        await pilot.pause()
        assert timeline.selected.number == len(app.entries)

        # While the list has focus the user is scrubbing: the marker moves, the selection stays.
        timeline.set_current(200)
        timeline.focus_list()
        await pilot.pause()
        timeline.set_current(90_000)
        await pilot.pause()
        assert timeline.selected is not None and timeline.selected.number == 20
        assert "call_20()" in "".join(visible(app))
        assert not any(line.startswith("▶") for line in visible(app))

    run(app, script)


def test_a_click_on_a_line_selects_it_and_jumps() -> None:
    app = TimelineApp(many(), end_position=100_010)

    async def script(pilot: Pilot) -> None:
        await pilot.click(EventList, offset=(10, 3))
        await pilot.pause()
        assert [entry.number for entry in app.jumped] == [4]
        assert app.query_one(Timeline).selected == app.entries[3]
        assert app.scrubbed == []  # a click is a jump, not a scrub

    run(app, script)


def test_threads_get_a_column_when_there_are_several() -> None:
    app = TimelineApp(many(50, threads=2), end_position=510)

    async def script(pilot: Pilot) -> None:
        assert " t2 call_1() → result_1" in visible(app)[0]
        assert " t1 call_2() → result_2" in visible(app)[1]

    run(app, script)


def test_density_strip_shows_where_entries_are_dense_and_where_the_debugger_is() -> None:
    # 40 events in the first tenth of the run, 4 in the last tenth, one failed test in the middle.
    entries = [TimelineEntry(n, n, 1, "clock", "time.time()", "1.0") for n in range(1, 41)]
    entries.append(TimelineEntry(40, 500, 1, "test", "test_prices", "failed", outcome="failed"))
    entries += [TimelineEntry(n, 900 + 10 * (n - 40), 1, "file", f"open('{n}')", "ok") for n in range(41, 45)]
    app = TimelineApp(entries, end_position=1_399)  # 1,400 positions over 70 cells: 20 per cell

    async def script(pilot: Pilot) -> None:
        strip = app.query_one(DensityStrip)
        assert strip.size.width == 70
        timeline = app.query_one(Timeline)
        timeline.set_current(505)
        await pilot.pause()
        cells = list(strip.render_line(0))
        text = "".join(cell.text for cell in cells)
        assert len(text) == 70
        assert text[0] == text[1] == "█"  # positions 1..39: 19 or 20 entries in each of the first cells
        assert text[2] == "▁"  # position 40 alone
        assert text[3] == " "
        assert text[45] == text[46] == text[47] == "▁" and text[48] == " "  # positions 910..940: 1, 2, 1 entries
        current = strip.get_visual_style("density-strip--current").rich_style
        failed = strip.get_visual_style("density-strip--failed").rich_style
        assert cells[25].style is not None and cells[25].style.bgcolor == current.bgcolor
        assert cells[25].style.color == failed.color  # the failed test is in the current cell
        assert [cell.style.bgcolor for cell in cells].count(current.bgcolor) == 1

        timeline.set_current(0)
        await pilot.pause()
        cells = list(strip.render_line(0))
        assert cells[0].style is not None and cells[0].style.bgcolor == current.bgcolor
        assert cells[25].style is not None and cells[25].style.bgcolor != current.bgcolor

        await pilot.click(DensityStrip, offset=(45, 0))
        await pilot.click(DensityStrip, offset=(3, 0))  # an empty cell: nothing to go to
        await pilot.pause()
        assert [entry.call for entry in app.jumped] == ["open('41')"]
        assert timeline.selected == entries[41]

    run(app, script, size=(70, 12))


def test_tests_are_ranges_of_the_density_strip() -> None:
    """A test covers the cells from its start to its end, tinted by outcome; a failed test
    wins a cell it shares with a passed one."""
    entries = [
        TimelineEntry(1, 0, 1, "test", "t::a", "passed", outcome="passed", end=390),
        TimelineEntry(2, 400, 1, "test", "t::b", "failed", outcome="failed", end=590),
        TimelineEntry(3, 600, 1, "test", "t::c", "skipped", outcome="skipped", end=700),
        TimelineEntry(4, 650, 1, "clock", "time.time()", "1.0"),
    ]
    app = TimelineApp(entries, end_position=999)

    async def script(pilot: Pilot) -> None:
        strip = app.query_one(DensityStrip)
        width = strip.size.width
        ranges = strip.ranges(width)
        assert ranges[0] == ranges[strip.bucket(300, width)] == "passed"
        assert ranges[strip.bucket(500, width)] == "failed"
        assert ranges[strip.bucket(650, width)] == "skipped"
        assert ranges[strip.bucket(900, width)] is None
        failed_cell = strip.render_line(0).crop(strip.bucket(500, width), strip.bucket(500, width) + 1)
        passed_cell = strip.render_line(0).crop(strip.bucket(100, width), strip.bucket(100, width) + 1)
        assert list(failed_cell)[0].style.bgcolor != list(passed_cell)[0].style.bgcolor

    run(app, script)
