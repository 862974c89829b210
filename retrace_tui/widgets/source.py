"""The source pane: the recorded file, highlighted, with the current line, the cursor and
breakpoints marked. Built on Textual's Line API so thousand-line files scroll fast."""
from __future__ import annotations

import os
from typing import ClassVar

from pygments.lexers.python import PythonLexer
from rich.segment import Segment
from rich.style import Style
from rich.syntax import PygmentsSyntaxTheme
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

TAB_SIZE = 4
# Control characters would corrupt the terminal; show them as their Unicode pictures.
_CONTROL = {c: 0x2400 + c for c in range(32) if c != 10} | {127: 0x2421}


def highlight(text: str, style_name: str) -> list[Text]:
    """One rich Text per line of `text` (already normalised), coloured by a Pygments style."""
    theme = PygmentsSyntaxTheme(style_name)  # falls back to "default" for unknown names
    page = theme.get_background_style().bgcolor
    styles: dict[object, Style] = {}
    lines = [Text()]
    # stripnl=False: the default strips leading blank lines and would shift line numbers.
    for token, value in PythonLexer(stripnl=False).get_tokens(text):
        if (style := styles.get(token)) is None:
            style = theme.get_style_for_token(token)
            if style.bgcolor == page:  # the app theme's background shows instead of the page colour
                style = Style(color=style.color, bold=style.bold, italic=style.italic, underline=style.underline)
            styles[token] = style
        first, *rest = value.split("\n")
        lines[-1].append(first, style)
        for part in rest:
            lines.append(Text())
            lines[-1].append(part, style)
    return lines


def normalise(text: str) -> list[str]:
    """Split as Python numbers lines (only \\n, \\r\\n, \\r), tabs expanded, controls made visible."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(TAB_SIZE).translate(_CONTROL)
    lines = text.split("\n")
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


class SourceView(ScrollView, can_focus=True):
    """The debugger's source pane (1-based line numbers throughout)."""

    class BreakpointToggled(Message):
        """The user asked to toggle a breakpoint (`x`), or a conditional one (`X`)."""

        def __init__(self, source_view: SourceView, file: str, line: int, with_condition: bool) -> None:
            super().__init__()
            self.source_view, self.file, self.line, self.with_condition = source_view, file, line, with_condition

        @property
        def control(self) -> SourceView:
            return self.source_view

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_move(-1)", "Up", show=False),
        Binding("down", "cursor_move(1)", "Down", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
        Binding("home", "cursor_to(1)", "First line", show=False),
        Binding("end", "cursor_to(-1)", "Last line", show=False),
        # In the footer once, as the app's own x/X.
        Binding("x", "toggle_breakpoint(False)", "Breakpoint", show=False),
        Binding("X", "toggle_breakpoint(True)", "Cond. breakpoint", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "source-view--gutter", "source-view--breakpoint", "source-view--arrow",
        "source-view--current-line", "source-view--cursor-line",
    }
    DEFAULT_CSS = """
    SourceView { border: round $panel; border-title-color: $text-muted; background: $surface; }
    SourceView:focus { border: round $accent; }
    SourceView > .source-view--gutter { color: $text-muted; }
    SourceView > .source-view--breakpoint { color: $error; }
    SourceView > .source-view--arrow { color: $accent; text-style: bold; }
    SourceView > .source-view--current-line { background: $accent 30%; }
    SourceView > .source-view--cursor-line { background: $foreground 8%; }
    """

    cursor_line: reactive[int] = reactive(1)
    """The line `x` toggles a breakpoint on."""

    def __init__(self, *, pygments_style: str = "monokai", name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = "Source"
        self._file: str | None = None
        self._text: str | None = None
        self._lines: list[Text] = []
        self._width = 0  # of the widest line
        self._placeholder = "(no source)"
        self._current: int | None = None
        self._breakpoints: set[int] = set()
        self._style_name = pygments_style
        self._centre_pending = False
        # Tokenising is the slow part: keep a few files' highlighted lines, keyed by (text, style).
        self._highlighted: LRUCache[tuple[str, str], tuple[list[Text], int]] = LRUCache(8)
        # Per document line: (gutter, code, padding style), uncropped so scrolling reuses them.
        self._strips: LRUCache[int, tuple[Strip, Strip, Style]] = LRUCache(1024)

    @property
    def file(self) -> str | None:
        """The file shown, or None."""
        return self._file

    @property
    def current_line(self) -> int | None:
        """The line marked with ▶, or None."""
        return self._current

    @property
    def _gutter_width(self) -> int:
        return len(str(len(self._lines))) + 3

    def show(self, file: str | None, text: str | None, current_line: int | None,
             breakpoints: set[int] | None = None, *, placeholder: str | None = None) -> None:
        """Show `file`'s recorded `text` with `current_line` marked, scrolled into view (centred
        if it was off screen) and under the cursor. Breakpoints None: keep them for the same
        file, none for another. Text None shows `placeholder` (or a default) instead."""
        same_file = file == self._file
        self._file = file
        self._fit_title()
        if breakpoints is not None:
            self._breakpoints = set(breakpoints)
        elif not same_file:
            self._breakpoints = set()
        if text is None:
            self._text, self._lines = None, []
            self._placeholder = placeholder or (f"(no source for {file})" if file else "(the program has ended)")
        elif not (same_file and text == self._text):
            self._text = text
            self._rehighlight()
        self._current = current_line if current_line and 1 <= current_line <= len(self._lines) else None
        self._strips.clear()
        lines = len(self._lines)
        self.virtual_size = Size(self._gutter_width + self._width, lines) if lines else Size(len(self._placeholder), 1)
        # The scrollbars learn the new size at the next layout; until then scroll_to would
        # be clamped to the old one. Tell them now, as EventList.set_entries does.
        self._scroll_update(self.virtual_size)
        self.refresh()
        if not same_file:
            self.scroll_to(0, 0, animate=False)
        # Centre the line if it is not on screen now (decided before the cursor moves, which
        # scrolls by itself); the scroll waits for the refresh, as the new virtual size is
        # what lets scroll_to go that far down.
        height, top = self.scrollable_content_region.height, round(self.scroll_y)
        self._centre_pending = self._current is not None and (
            not same_file or height <= 0 or not top <= self._current - 1 < top + height)
        self.call_after_refresh(self._centre_current)
        self.cursor_line = self._current or self.cursor_line  # re-validated against the new length

    def set_breakpoints(self, lines: set[int]) -> None:
        """Replace the breakpoint markers (for the file shown)."""
        changed, self._breakpoints = self._breakpoints ^ set(lines), set(lines)
        for line in changed:
            self._refresh_line(line)

    def set_pygments_style(self, style_name: str) -> None:
        """Re-highlight with another Pygments style, e.g. "monokai" or "default"."""
        if style_name != self._style_name:
            self._style_name = style_name
            if self._text is not None:
                self._rehighlight()
            self._strips.clear()
            self.refresh()

    def _rehighlight(self) -> None:
        assert self._text is not None
        key = (self._text, self._style_name)
        if (cached := self._highlighted.get(key)) is None:
            plain = normalise(self._text)
            # The lexer may add a final newline; keep exactly the file's lines.
            lines = highlight("\n".join(plain), self._style_name)[: len(plain)]
            cached = self._highlighted[key] = (lines, max(line.cell_len for line in lines))
        self._lines, self._width = cached

    def _centre_current(self) -> None:
        """Centre the current line, unless it is already visible; wait for a size if need be."""
        height = self.scrollable_content_region.height
        if not self._centre_pending or self._current is None or height <= 0:
            return
        self._centre_pending = False
        self.scroll_to(y=max(0, self._current - 1 - height // 2), animate=False)

    def on_resize(self, event: events.Resize) -> None:
        # A smaller pane may have left the current line out of sight: bring it back.
        height, top = self.scrollable_content_region.height, round(self.scroll_y)
        if self._current is not None and height > 0 and not top <= self._current - 1 < top + height:
            self._centre_pending = True
        self._centre_current()
        self._fit_title()

    def _fit_title(self) -> None:
        """``Source  path``, the path cut at its start (``…/tests/test_receipt.py``) so
        that the file's name stays whole in the border."""
        if self._file is None:
            self.border_title = "Source"
            return
        room = self.size.width - 6 - len("Source  ")  # the border's corners and padding
        path = self._file
        if len(path) > room > 0:
            path = "…" + path[len(path) - room + 1:]
            name = os.path.basename(self._file)
            if len(path) < len(name) + 1 or not path.endswith(name):
                path = name
            elif os.sep in path:  # cut at a folder boundary: …/tests/x.py, not …sts/x.py
                path = "…" + path[path.index(os.sep):]
        self.border_title = f"Source  {path}"

    def notify_style_update(self) -> None:
        # A theme change alters every colour baked into the cached strips.
        super().notify_style_update()
        self._strips.clear()

    def on_focus(self, event: events.Focus) -> None:
        self._refresh_line(self.cursor_line)  # the cursor line is only shown while focused

    def on_blur(self, event: events.Blur) -> None:
        self._refresh_line(self.cursor_line)

    def _refresh_line(self, line: int) -> None:
        self._strips.discard(line - 1)
        self.refresh_line(line - 1)

    def validate_cursor_line(self, line: int) -> int:
        return max(1, min(line, len(self._lines)))

    def watch_cursor_line(self, old: int, new: int) -> None:
        self._refresh_line(old)
        self._refresh_line(new)
        if self._lines and self.scrollable_content_region.height > 0:  # keep the cursor visible
            self.scroll_to_region(Region(0, new - 1, 1, 1), animate=False, x_axis=False, immediate=True)

    def action_cursor_move(self, lines: int) -> None:
        self.cursor_line += lines

    def action_cursor_page(self, direction: int) -> None:
        self.cursor_line += direction * max(1, self.scrollable_content_region.height - 1)

    def action_cursor_to(self, line: int) -> None:
        self.cursor_line = line if line > 0 else len(self._lines)

    def action_toggle_breakpoint(self, with_condition: bool) -> None:
        if self._file is not None and self._lines:
            self.post_message(self.BreakpointToggled(self, self._file, self.cursor_line, with_condition))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self._lines:
            return
        line = round(self.scroll_y) + offset.y + 1
        if line <= len(self._lines):
            self.cursor_line = line
            if offset.x == 0:  # a click on the breakpoint column toggles it
                self.action_toggle_breakpoint(False)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index, width = scroll_y + y, self.scrollable_content_region.width
        base = self.rich_style
        if not self._lines:
            if index != 0:
                return Strip.blank(width, base)
            muted = self.get_component_rich_style("source-view--gutter")
            return Strip([Segment(self._placeholder, muted)]).crop_extend(scroll_x, scroll_x + width, base)
        if index >= len(self._lines):
            return Strip.blank(width, base)
        cached = self._strips.get(index)
        if cached is None:
            cached = self._strips[index] = self._build_line(index + 1, base)
        gutter, code, pad = cached
        # The gutter stays put; only the code scrolls sideways.
        code_width = max(0, width - gutter.cell_length)
        return Strip.join([gutter, code.crop_extend(scroll_x, scroll_x + code_width, pad)])

    def _build_line(self, line: int, base: Style) -> tuple[Strip, Strip, Style]:
        """The uncropped gutter and code of one line, and the style to pad it with."""
        style = self.get_component_rich_style
        background: Style | None = None
        if line == self._current:
            background = Style(bgcolor=style("source-view--current-line").bgcolor)
        elif line == self.cursor_line and self.has_focus:
            background = Style(bgcolor=style("source-view--cursor-line").bgcolor)
        gutter_style, digits = style("source-view--gutter"), self._gutter_width - 3
        gutter = [Segment("●" if line in self._breakpoints else " ", style("source-view--breakpoint")),
                  Segment(f"{line:>{digits}}", gutter_style),
                  Segment("▶" if line == self._current else " ", style("source-view--arrow")),
                  Segment(" ", gutter_style)]
        code = self._lines[line - 1].render(self.app.console)
        # post_style: the line's background wins over any token background.
        gutter_strip = Strip(Segment.apply_style(gutter, post_style=background), self._gutter_width)
        code_strip = Strip(Segment.apply_style(code, base, background), self._lines[line - 1].cell_len)
        return gutter_strip, code_strip, base + background if background else base
