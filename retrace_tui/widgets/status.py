"""The status line: where we are in the run and what the last action did."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $foreground; padding: 0 1;
                 text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def show(self, view, busy: str | None = None) -> None:
        text = Text()
        text.append(f"position {view.position}/{view.end}", style="bold")
        text.append(f"  event {view.event}/{view.events}")
        text.append(f"  thread {view.thread}", style="dim")
        if view.processes > 1:
            text.append(f"  pid {view.pid}", style="dim")
        if busy:
            text.append(f"  {busy}", style="italic")
        elif view.message:
            text.append(f"  {view.message}", style="bold " + self.app.theme_variables.get("accent", ""))
        self.update(text)

    def say(self, message: str) -> None:
        self.update(Text(message, style="bold"))
