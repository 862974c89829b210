"""The status line: where we are in the run and what the last action did."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusLine(Static):
    """One line under the panes; every move and every answer ends by updating it."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $foreground; padding: 0 1;
                 text-wrap: nowrap; text-overflow: ellipsis; }
    """

    _indexing = ""  # the indexing pass's progress, while a first look is shown
    _shown = None  # (view, note) of the last show, to draw again with new progress

    def show(self, view, note: str | None = None) -> None:
        """What the last action did first (it is what a user reads), then where we are.

        ``note`` is ours (the app's answer to a key: "no more events that way"), shown in
        italics in place of the engine's message about the stop."""
        text = Text()
        said = note or view.message
        if said:
            text.append(said, style="italic" if note else "bold " + self.app.theme_variables.get("accent", ""))
            text.append("  ")
        self._shown = (view, note)
        if view.indexed:
            text.append(f"position {view.position}/{view.end}", style="bold")
        else:  # a first look at the failure: no position in the run yet
            text.append(f"indexing the run {self._indexing}: moves stay in this test", style="bold")
        text.append(f"  event {view.event}/{view.events}")
        if view.thread:
            text.append(f"  thread {view.thread}", style="dim")
        if view.processes > 1:
            text.append(f"  pid {view.pid}", style="dim")
        self.update(text)

    def say(self, message: str) -> None:
        """A line of its own, while there is no position to show (a move under way)."""
        self._shown = None
        self.update(Text(message, style="bold"))

    def indexing(self, progress: str) -> None:
        """How far the indexing pass is, shown in place of the position of a first look's view."""
        if progress != self._indexing:
            self._indexing = progress
            if self._shown is not None and not self._shown[0].indexed:
                self.show(*self._shown)
