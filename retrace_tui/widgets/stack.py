"""The stack pane: the program's frames, innermost first; selecting one shows its
source and locals."""
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

    def show(self, frames: list[dict], selected: int) -> None:
        """Replace the frames; the highlighted one is ``selected``."""
        self._frames = frames
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
