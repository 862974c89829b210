"""The output pane: what the program had written to stdout and stderr by the current
position, stderr in the error colour."""
from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

MAX_SHOWN = 200_000  # characters: the tail of a very chatty run is what matters here


class OutputView(VerticalScroll, can_focus=False):
    """Out of the Tab order (the mouse wheel scrolls it): Tab goes from the source to the
    stack and the locals, where the keys are."""

    DEFAULT_CSS = """
    OutputView { border: round $panel; border-title-color: $text-muted; }
    OutputView:focus { border: round $accent; }
    OutputView > Static { width: 1fr; min-height: 100%; }
    """
    # min-height: an anchored pane scrolls to (text height - pane height), which is negative
    # for a short text (Textual does not clamp it there): the text would sit at the bottom.

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Output"
        self._shown: list[tuple[int, str]] | None = None

    def compose(self):
        yield Static("", id="output-text")

    def show(self, written: list[tuple[int, str]]) -> None:
        """``written``: (fd, text) in the order written; scrolls to the newest."""
        if written == self._shown:
            return
        self._shown = written
        text = Text()
        error_style = self.app.theme_variables.get("error", "red")
        for fd, data in written:
            text.append(data, style=error_style if fd == 2 else "")
        text.rstrip()  # the last newline would only leave an empty row
        if len(text) > MAX_SHOWN:
            text = text[len(text) - MAX_SHOWN:]
        if not written:
            text = Text("(nothing written yet)", style="dim")
        self.query_one("#output-text", Static).update(text)
        # Re-engages the anchor if the user scrolled up: a new position shows its newest output.
        self.scroll_end(animate=False)

    def on_mount(self) -> None:
        # Anchored, the layout itself keeps the newest line in view whenever the text or the
        # pane changes size. Scrolling after a refresh (how this was done before) raced the
        # layout under load: the 80x24 pane was once left at 0 of 1.
        self.anchor()
