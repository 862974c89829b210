"""The timeline pane: every boundary event and marker of a run, with a density strip above."""
from __future__ import annotations

from bisect import bisect_left
from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from retrace_tui.debugger import TimelineEntry  # the model's; re-exported for widget users

# kind: (icon, colour). A test marker's kind is its outcome; "test" is a test starting.
KINDS = {
    "clock": ("◷", "$text-primary"), "random": ("⚄", "$text-secondary"), "file": ("▤", "$text-warning"),
    "socket": ("⇄", "$text-accent"), "process": ("⚙", "$text-success"), "output": ("▸", "$foreground"),
    "thread": ("⇅", "$text-muted"),  # a thread's start or end, a lock hand-off, a join
    "other": ("·", "$text-muted"), "test": ("○", "$text-muted"), "passed": ("✔", "$text-success"),
    "failed": ("✘", "$text-error"), "skipped": ("–", "$text-warning"),
}
BLOCKS = " ▁▂▃▄▅▆▇█"
# Calls and results are one-line summaries, but a stray newline or tab would break a Strip.
_ONE_LINE = {code: " " for code in [*range(32), 127]} | {ord("\n"): "⏎"}


class _EntryMessage(Message):
    """A message about one entry; `control` is the Timeline, for `@on(..., selector)`."""

    def __init__(self, entry: TimelineEntry, timeline: Timeline | None = None) -> None:
        super().__init__()
        self.entry = entry
        self.timeline = timeline

    @property
    def control(self) -> Timeline | None:
        return self.timeline


RANGE_OUTCOMES = ("passed", "failed", "skipped")


class DensityStrip(Widget):
    """One row: how many entries fall in each slice of the run, as block heights."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "density-strip--current", "density-strip--failed",
        "density-strip--range-passed", "density-strip--range-failed", "density-strip--range-skipped",
    }
    # Tests are ranges of the run: a tinted background from a test's start to its end, by
    # outcome (a failed one wins a cell it shares).
    DEFAULT_CSS = """
    DensityStrip { height: 1; width: 1fr; color: $text-primary; }
    DensityStrip > .density-strip--range-passed { background: $success 20%; }
    DensityStrip > .density-strip--range-skipped { background: $warning 20%; }
    DensityStrip > .density-strip--range-failed { background: $error 35%; }
    DensityStrip > .density-strip--current { background: $accent; color: $foreground; }
    DensityStrip > .density-strip--failed { color: $text-error; }
    """

    class Clicked(Message):
        """A cell with entries was clicked; Timeline turns this into Jumped."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[TimelineEntry] = []
        self._end = 0
        self._current: int | None = None
        self._cache: tuple | None = None  # (width, counts, first entries, failed, test ranges)

    def set_entries(self, entries: list[TimelineEntry], end_position: int) -> None:
        self._entries, self._end, self._cache = entries, max(end_position, 0), None
        self.refresh()

    def set_current(self, position: int | None) -> None:
        self._current = position
        self.refresh()

    def bucket(self, position: int, width: int) -> int:
        """The cell (0..width-1) that holds a position of the run."""
        return min(max(position * width // (self._end + 1), 0), width - 1)

    def buckets(self, width: int) -> tuple[list[int], list[int | None], list[bool]]:
        """Per cell: entry count, index of its first entry, whether a failed test lies there."""
        return self._cells(width)[:3]

    def ranges(self, width: int) -> list[str | None]:
        """Per cell: the outcome of the tests whose range covers it (failed first)."""
        return self._cells(width)[3]

    def _cells(self, width: int):
        if self._cache is None or self._cache[0] != width:
            counts, first, failed = [0] * width, [None] * width, [False] * width
            ranges: list[str | None] = [None] * width
            for index, entry in enumerate(self._entries):
                cell = self.bucket(entry.position, width)
                counts[cell] += 1
                if first[cell] is None:
                    first[cell] = index
                failed[cell] = failed[cell] or entry.outcome == "failed"
                if entry.category == "test" and entry.end is not None:
                    outcome = "failed" if entry.outcome in ("failed", "interrupted") else entry.outcome
                    for covered in range(cell, self.bucket(entry.end, width) + 1):
                        if ranges[covered] != "failed":
                            ranges[covered] = outcome
            self._cache = (width, counts, first, failed, ranges)
        return self._cache[1:]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y or width <= 0:
            return Strip.blank(width, self.visual_style.rich_style)
        counts, _, failed = self.buckets(width)
        ranges = self.ranges(width)
        peak = max(counts) or 1
        current = None if self._current is None else self.bucket(self._current, width)
        segments = []
        for cell, count in enumerate(counts):
            # Ceiling, so a bucket with a single entry still shows up next to a crowded one.
            level = -(-count * (len(BLOCKS) - 1) // peak)
            classes = (f"density-strip--range-{ranges[cell]}",) if ranges[cell] in RANGE_OUTCOMES else ()
            classes += ("density-strip--current",) if cell == current else ()
            classes += ("density-strip--failed",) if failed[cell] else ()
            segments.append(Segment(BLOCKS[level], self.get_visual_style(*classes).rich_style))
        return Strip(segments, width)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and self.size.width > 0:
            index = self.buckets(self.size.width)[1][min(offset.x, self.size.width - 1)]
            if index is not None:
                self.post_message(self.Clicked(index))


class EventList(ScrollView, can_focus=True):
    """The entries, one per line, drawn with the Line API (only visible lines are rendered)."""

    ALLOW_SELECT = False  # a drag scrubs, it does not select text
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Previous event", show=False),
        Binding("down", "move(1)", "Next event", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First event", show=False),
        Binding("end", "edge(1)", "Last event", show=False),
        Binding("enter", "jump", "Go to event", show=False),
        # Only while a search is on (check_action): else n, N and Esc are the app's keys.
        Binding("n", "search_step(1)", "Next hit", show=False),
        Binding("N", "search_step(-1)", "Previous hit", show=False),
        Binding("escape", "end_search", "End the search", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "event-list--cursor", "event-list--current", "event-list--marker", "event-list--number",
        "event-list--thread", "event-list--result", "event-list--hit", *(f"event-list--{kind}" for kind in KINDS),
    }
    DEFAULT_CSS = """
    EventList { height: 1fr; width: 1fr; overflow-x: hidden; overflow-y: auto; }
    EventList > .event-list--cursor {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
    }
    EventList:focus > .event-list--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    EventList > .event-list--current { background: $accent 25%; }
    EventList > .event-list--marker { color: $text-accent; text-style: bold; }
    EventList > .event-list--number { color: $text-muted; }
    EventList > .event-list--thread { color: $text-secondary; }
    EventList > .event-list--result { text-style: dim; }
    EventList > .event-list--hit { color: $text-warning; text-style: bold underline; }
    """ + "".join(f"EventList > .event-list--{kind} {{ color: {colour}; }}\n" for kind, (_, colour) in KINDS.items())

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[TimelineEntry] = []
        self._selected: int | None = None
        self._current: int | None = None
        self._number_width = 1
        self._thread_width = 0  # 0: a single thread, no thread column
        self._dragged_to: int | None = None
        self._scroll_pending = False
        self.search_text: str | None = None
        self.hits: list[int] = []  # indexes of the entries the search matched
        self._hit_lookup: set[int] = set()

    @property
    def selected(self) -> TimelineEntry | None:
        return None if self._selected is None else self._entries[self._selected]

    def search(self, text: str | None) -> None:
        """Mark the entries whose call, arguments or result contain ``text`` (any case)."""
        self.search_text = text or None
        needle = (text or "").casefold()
        self.hits = [index for index, entry in enumerate(self._entries)
                     if needle in f"{entry.call} → {entry.result}".casefold()] if needle else []
        self._hit_lookup = set(self.hits)
        self.refresh()

    def hit_after(self, index: int, step: int) -> int | None:
        """The hit after (step 1) or before (-1) entry ``index``, wrapping round; None: no hits."""
        if not self.hits:
            return None
        at = bisect_left(self.hits, index + 1) if step > 0 else bisect_left(self.hits, index) - 1
        return self.hits[at % len(self.hits)]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("search_step", "end_search"):
            return self.search_text is not None
        return True

    def action_search_step(self, step: int) -> None:
        index = self.hit_after(self._anchor(), step)
        if index is not None:
            self.post_message(Timeline.Jumped(self.select(index, center=True), self._timeline))

    def action_end_search(self) -> None:
        self.search(None)
        if self._timeline is not None:
            self._timeline.show_search()

    def set_entries(self, entries: list[TimelineEntry]) -> None:
        self._entries = entries
        self._number_width = len(str(max((entry.number for entry in entries), default=0)))
        threads = {entry.thread for entry in entries}
        self._thread_width = 1 + max(len(str(t)) for t in threads) if len(threads) > 1 else 0
        self._current = None
        if self._selected is not None and self._selected >= len(entries):
            self._selected = len(entries) - 1 if entries else None
        self.virtual_size = Size(0, len(entries))  # no horizontal scrolling: lines are cropped
        self._scroll_update(self.virtual_size)
        self.refresh()

    def set_current(self, index: int | None, follow: bool) -> None:
        """Mark the current event; with `follow`, also select it and centre it if off screen."""
        self._current = index
        if follow and index is not None:
            self._selected = index
            self._scroll_into_view(index, center=True)
        self.refresh()

    def select(self, index: int, center: bool = False) -> TimelineEntry:
        self._selected = min(max(index, 0), len(self._entries) - 1)
        self._scroll_into_view(self._selected, center)
        self.refresh()
        return self._entries[self._selected]

    def _scroll_into_view(self, index: int, center: bool) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:  # not laid out yet: on_resize does it
            self._scroll_pending = True
            return
        top = self.scroll_offset.y
        if top <= index < top + height:
            return
        target = index - height // 2 if center else index if index < top else index - height + 1
        self.scroll_to(y=target, animate=False, force=True)

    def on_resize(self) -> None:
        if self._scroll_pending and self._selected is not None:
            self._scroll_pending = False
            self._scroll_into_view(self._selected, center=True)

    def _scrub(self, index: int) -> None:
        # One Scrubbed per key press, even when it changed nothing: the app coalesces.
        if self._entries:
            self.post_message(Timeline.Scrubbed(self.select(index), self._timeline))

    @property
    def _timeline(self) -> Timeline | None:
        return self.parent if isinstance(self.parent, Timeline) else None

    def _anchor(self) -> int:
        return self._selected if self._selected is not None else self._current if self._current is not None else -1

    def action_move(self, delta: int) -> None:
        self._scrub(self._anchor() + delta)

    def action_page(self, direction: int) -> None:
        # Move the view by the same page, so the selection keeps its row on screen.
        delta = direction * max(1, self.scrollable_content_region.height)
        self.scroll_to(y=self.scroll_offset.y + delta, animate=False, force=True)
        self._scrub(max(self._anchor(), 0) + delta)

    def action_edge(self, end: int) -> None:
        self._scrub(len(self._entries) - 1 if end else 0)

    def action_jump(self) -> None:
        if (entry := self.selected) is not None:
            self.post_message(Timeline.Jumped(entry, self._timeline))

    def _line_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset_capture(self)
        index = self.scroll_offset.y + offset.y
        return min(max(index, 0), len(self._entries) - 1) if self._entries else None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._dragged_to = self._line_at(event)
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        # Scrub only when the drag reaches another line; a plain click is a Jump, not a Scrub.
        if self._dragged_to is not None and event.button and (index := self._line_at(event)) != self._dragged_to:
            self._dragged_to = index
            self._scrub(index)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._dragged_to = None
        self.release_mouse()

    def on_click(self, event: events.Click) -> None:
        inside = event.screen_offset in self.scrollable_content_region  # not on the scrollbar
        if inside and (index := self._line_at(event)) is not None:
            self.post_message(Timeline.Jumped(self.select(index), self._timeline))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        if not 0 <= index < len(self._entries):
            return Strip.blank(width, self.visual_style.rich_style)
        entry = self._entries[index]
        line = ("event-list--cursor",) if index == self._selected else ()
        line += ("event-list--current",) if index == self._current and not line else ()
        hit = ("event-list--hit",) if index in self._hit_lookup else ()

        def piece(text: str, *classes: str) -> Segment:
            return Segment(text, self.get_visual_style(*line, *classes).rich_style)

        if entry.category == "test":
            kind = entry.outcome if entry.outcome in ("passed", "failed", "skipped") else "test"
        else:
            kind = entry.category if entry.category in KINDS else "other"
        segments = [
            piece("▶" if index == self._current else " ", "event-list--marker"),
            piece(KINDS[kind][0], f"event-list--{kind}"),
            piece(f" {entry.number:>{self._number_width}} ", "event-list--number"),
        ]
        if self._thread_width:
            segments.append(piece(f"t{entry.thread:<{self._thread_width - 1}} ", "event-list--thread"))
        segments += [
            piece(entry.call.translate(_ONE_LINE), *hit),
            piece(" → ", "event-list--result"),
            piece(entry.result.translate(_ONE_LINE), "event-list--result"),
        ]
        return Strip(segments).crop_extend(0, width, self.get_visual_style(*line).rich_style)


class Timeline(Widget, can_focus=False):
    """The timeline pane: a DensityStrip above an EventList."""

    DEFAULT_CSS = "Timeline { layout: vertical; height: 1fr; width: 1fr; }"

    class Scrubbed(_EntryMessage):
        """The selection moved (keys, mouse drag): the app moves the debugger there, coalescing."""

    class Jumped(_EntryMessage):
        """Enter, or a click on a line or a density cell: go to this entry now."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        # Children exist before mounting, so the app may call set_entries() straight away.
        self._strip = DensityStrip()
        self._list = EventList()
        self._positions: list[int] = []
        self._position: int | None = None

    def compose(self) -> ComposeResult:
        yield self._strip
        yield self._list

    @property
    def selected(self) -> TimelineEntry | None:
        return self._list.selected

    def set_entries(self, entries: list[TimelineEntry], end_position: int) -> None:
        """Show these entries (in position order) for a run that ends at end_position."""
        entries = list(entries)
        self._positions = [entry.position for entry in entries]
        self._list.set_entries(entries)
        self._strip.set_entries(entries, end_position)
        if self._position is not None:
            self.set_current(self._position)

    def set_current(self, position: int, follow: bool | None = None) -> None:
        """Mark the debugger's current entry: the next to happen from its position's line on
        (a stop is at the start of its line), or the last one at the end of the run. The
        selection follows it when ``follow`` is true; by default only while the list has
        no focus (the user is not scrubbing)."""
        self._position = position
        index = min(bisect_left(self._positions, position), len(self._positions) - 1)
        follow = not self._list.has_focus if follow is None else follow
        self._list.set_current(index if index >= 0 else None, follow=follow)
        self._strip.set_current(position)

    def focus_list(self) -> None:
        self._list.focus()

    def search(self, text: str) -> TimelineEntry | None:
        """Search the entries for ``text`` and select the first hit after the selected
        entry (wrapping round, as a search in an editor does); None when nothing matches."""
        self._list.search(text)
        index = self._list.hit_after(self._list._anchor(), 1)
        self.show_search()
        return None if index is None else self._list.select(index, center=True)

    def show_search(self) -> None:
        """The pane's title says what is searched and how many entries matched."""
        text, hits = self._list.search_text, len(self._list.hits)
        self.border_title = "Timeline" if text is None else \
            f"Timeline  /{text}: {hits} hit{'s' if hits != 1 else ''} (n/N, Esc ends)"

    def on_density_strip_clicked(self, message: DensityStrip.Clicked) -> None:
        message.stop()
        self.post_message(self.Jumped(self._list.select(message.index, center=True), self))
