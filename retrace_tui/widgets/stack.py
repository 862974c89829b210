"""The stack pane: the program's frames, innermost first; selecting one shows its
source and locals. With several threads, its title names the one shown (T switches)."""
from __future__ import annotations

import os

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class StackView(OptionList):
    """One line per frame: function, then file:line."""

    DEFAULT_CSS = """
    StackView { border: round $panel; border-title-color: $text-muted; text-wrap: nowrap;
                text-overflow: ellipsis; }
    StackView:focus { border: round $accent; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Stack"
        self._frames: list[dict] = []

    def show(self, frames: list[dict], selected: int, threads: list[dict] = (), shown: int = 0) -> None:
        """Replace the frames (of thread ``shown``, one of ``threads``); the highlighted
        one is ``selected``."""
        self._frames = frames
        self.border_title = self._title(threads, shown)
        with self.prevent(OptionList.OptionHighlighted, OptionList.OptionSelected):
            self.clear_options()
            self.add_options([Option(self._label(index, frame), id=str(index))
                              for index, frame in enumerate(frames)])
            if frames:
                self.highlighted = min(selected, len(frames) - 1)

    @staticmethod
    def _label(index: int, frame: dict) -> Text:
        label = Text(no_wrap=True, overflow="ellipsis")
        label.append(f"#{index} ", style="dim")
        label.append(f"{os.path.basename(frame['file'])}:{frame['line']} ", style="dim")
        label.append(frame["function"], style="bold")
        return label

    @staticmethod
    def _title(threads: list[dict], shown: int) -> str:
        """``Stack  thread 1 worker-1  (2/3, T switches)`` when several threads run."""
        if len(threads) < 2:
            return "Stack"
        numbers = [thread["thread"] for thread in threads]
        at = numbers.index(shown) if shown in numbers else 0
        name = f" {threads[at]['name']}" if threads[at].get("name") else ""  # _thread's threads have none
        return f"Stack  thread {shown}{name}  ({at + 1}/{len(threads)}, T switches)"
