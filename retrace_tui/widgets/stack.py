"""The stack pane: the program's frames, innermost first; selecting one shows its
source and locals. With several threads, its title names the one shown (T switches).
With "just my code", a run of library frames (pytest, pluggy, ...) is one dim row,
`… 8 library frames: pytest, pluggy`, that Enter unfolds."""
from __future__ import annotations

import os

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from retrace_tui.user_steps import library_names

FOLD = "fold-"  # the option id of a folded row: fold-FIRST-LAST


class StackView(OptionList):
    """One line per frame: `#N function  file:line`."""

    DEFAULT_CSS = """
    StackView { border: round $panel; border-title-color: $text-muted; text-wrap: nowrap;
                text-overflow: ellipsis; }
    StackView:focus { border: round $accent; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Stack"
        self._frames: list[dict] = []
        self._rows: list[tuple[int, int, bool]] = []

    def show(self, frames: list[dict], selected: int, threads: list[dict] = (), shown: int = 0,
             rows: list[tuple[int, int, bool]] | None = None) -> None:
        """Replace the frames (of thread ``shown``, one of ``threads``); the highlighted
        one is ``selected``. ``rows``: (first, last, folded) per row (default: a row per
        frame)."""
        self._frames = frames
        self._rows = rows if rows else [(index, index, False) for index in range(len(frames))]
        self.border_title = self._title(threads, shown)
        self._fill(selected)

    def _fill(self, selected: int) -> None:
        with self.prevent(OptionList.OptionHighlighted, OptionList.OptionSelected):
            self.clear_options()
            options, highlighted = [], 0
            for first, last, folded in self._rows:
                if folded:
                    options.append(Option(self._fold_label(self._frames[first:last + 1]), id=f"{FOLD}{first}-{last}"))
                else:
                    if first == selected:
                        highlighted = len(options)
                    options.append(Option(self._label(first, self._frames[first]), id=str(first)))
            self.add_options(options)
            if options:
                self.highlighted = highlighted

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a folded row unfolds it, in place."""
        if event.option.id and event.option.id.startswith(FOLD):
            event.stop()
            first, last = map(int, event.option.id[len(FOLD):].split("-"))
            at = self._rows.index((first, last, True))
            self._rows[at:at + 1] = [(index, index, False) for index in range(first, last + 1)]
            self._fill(first)
            with self.prevent(OptionList.OptionHighlighted):
                self.highlighted = at

    @staticmethod
    def _fold_label(frames: list[dict]) -> Text:
        count = len(frames)
        names = ", ".join(library_names(frames)[:3])
        return Text(f"… {count} library frame{'s' if count != 1 else ''}: {names}  (Enter unfolds)",
                    style="dim", no_wrap=True, overflow="ellipsis")

    @staticmethod
    def _label(index: int, frame: dict) -> Text:
        label = Text(no_wrap=True, overflow="ellipsis")
        label.append(f"#{index} ", style="dim")
        label.append(frame["function"], style="bold")  # first: what a narrow pane must not cut
        label.append(f"  {os.path.basename(frame['file'])}:{frame['line']}", style="dim")
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
