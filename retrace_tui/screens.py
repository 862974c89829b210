"""The app's modal screens: help, a one-line prompt, a text panel, the process picker,
the first indexing pass's progress, the failure list and lists to jump from."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from retrace_core.tape.process_tree import describe_process, in_tree_order

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 80%; max-width: 110; height: auto; max-height: 80%;
    border: round $accent; background: $surface; padding: 0 1; }}
{name} VerticalScroll {{ height: auto; max-height: 70vh; }}
{name} .hint {{ color: $text-muted; }}
"""


class KeyScroll(VerticalScroll):
    """A scrolling panel whose keys scroll at once, unanimated: an animated scroll takes
    each key's step from where the animation stands, so keys sent in a burst (a held
    key, a pasted sequence) were mostly lost."""

    BINDINGS = [
        Binding("up", "step(0, -1)", show=False), Binding("down", "step(0, 1)", show=False),
        Binding("pageup", "step(0, -2)", show=False), Binding("pagedown", "step(0, 2)", show=False),
        Binding("home", "step(-1, 0)", show=False), Binding("end", "step(1, 0)", show=False),
    ]

    def action_step(self, edge: int, lines: int) -> None:
        """``lines`` ±1 a line, ±2 a page; ``edge`` -1 the top, 1 the bottom."""
        if edge:
            self.scroll_to(y=0 if edge < 0 else self.max_scroll_y, animate=False, immediate=True)
            return
        step = lines if abs(lines) == 1 else (lines // 2) * max(1, self.scrollable_content_region.height - 1)
        self.scroll_to(y=self.scroll_y + step, animate=False, immediate=True)


class HelpScreen(ModalScreen[None]):
    """Every binding, from the app's own list (so it cannot drift)."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = MODAL_CSS.format(name="HelpScreen")

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self._key_list = bindings

    def compose(self) -> ComposeResult:
        text = Text()
        for key, description in self._key_list:
            text.append(f"{key:>12}  ", style="bold")
            text.append(f"{description}\n")
        text.append("\nTimeline: ↑/↓, PgUp/PgDn, Home/End scrub; Enter jumps. After /, n and N go to the "
                    "next and previous hit while the timeline has the focus; Esc ends the search.\n", style="dim")
        text.append("Stack: with just my code (J), library frames are one dim row; Enter unfolds it.\n", style="dim")
        text.append("Source: ↑/↓ move the cursor line that x and X act on.\n", style="dim")
        text.append("Locals: Enter or Space expands; v shows the whole value. Tab moves between panes.\n", style="dim")
        text.append("ctrl+p: the command palette (themes).", style="dim")
        with Vertical():
            yield Label(Text("Keys  (↑/↓ scroll, Esc closes)", style="bold"))
            with KeyScroll():
                yield Static(text)

    def on_mount(self) -> None:
        self.query_one(KeyScroll).focus()


class PromptScreen(ModalScreen[str | None]):
    """Asks for one line (an expression, a condition); Esc gives None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = MODAL_CSS.format(name="PromptScreen")

    def __init__(self, title: str, placeholder: str = "", allow_empty: bool = False, value: str = "") -> None:
        """``allow_empty``: Enter on an empty line answers "" (a default), not None;
        ``value``: the line's text to start with."""
        super().__init__()
        self._prompt_title, self._prompt_placeholder = title, placeholder
        self._allow_empty, self._prompt_value = allow_empty, value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._prompt_title)
            yield Input(self._prompt_value, placeholder=self._prompt_placeholder)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or ("" if self._allow_empty else None))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """A titled panel of text: a whole value, an evaluation, a divergence report."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]
    DEFAULT_CSS = MODAL_CSS.format(name="TextScreen")

    def __init__(self, title: str, body: str | Text, error: bool = False) -> None:
        super().__init__()
        self._panel_title, self._panel_body, self._panel_is_error = title, body, error

    def compose(self) -> ComposeResult:
        with Vertical(classes="error" if self._panel_is_error else ""):
            yield Label(Text(self._panel_title, style="bold"))
            with KeyScroll():
                yield Static(self._panel_body, markup=False)
            yield Label("Esc closes", classes="hint")

    def on_mount(self) -> None:
        self.query_one(KeyScroll).focus()


class ProcessPicker(Screen[int]):
    """Choose one of the recorded processes, shown as a tree (children indented under
    their parent) with how each was started, how it ended, and its command."""

    BINDINGS = [Binding("q,escape", "app.quit", "Quit")]
    DEFAULT_CSS = """ProcessPicker > Label { padding: 1 2; } ProcessPicker > OptionList { margin: 0 2; }
    ProcessPicker > .hint { dock: bottom; padding: 0 1; color: $text-muted; background: $panel; width: 1fr; }"""

    def __init__(self, processes: list[dict]) -> None:
        super().__init__()
        self._process_list = processes

    def compose(self) -> ComposeResult:
        yield Label("This recording has several processes. Open which one?")
        ordered = in_tree_order(self._process_list, self._process_list[0]["pid"] if self._process_list else None)
        yield OptionList(*[Option(self._label(process, depth), id=str(process["pid"]))
                           for depth, process in ordered])
        # Not the Footer: it would list the debugger's keys, which do nothing here.
        yield Label("↑/↓ choose   Enter opens   q or Esc quits", classes="hint")

    @staticmethod
    def _label(process: dict, depth: int) -> Text:
        started, ending, command = describe_process(process)
        label = Text("  " * depth)
        label.append(f"{process['pid']}", style="bold")
        label.append(f"  {started}  {ending}  ", style="dim")
        label.append(command)
        return label

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))


class LoadingScreen(Screen[None]):
    """The first indexing pass: the whole run is replayed once before the first stop."""

    DEFAULT_CSS = """
    LoadingScreen { align: center middle; }
    LoadingScreen > Vertical { width: 60; height: auto; }
    """
    BINDINGS = [Binding("q,escape", "app.quit", "Quit")]

    def __init__(self, recording: str) -> None:
        super().__init__()
        self._recording_name = recording

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Replaying {self._recording_name} to index it…")
            yield ProgressBar(total=None, show_eta=False, id="indexing")

    def progress(self, done: int, total: int) -> None:
        # A tick may come before the bar is mounted or after it is gone (the app ending
        # while the run is indexed): then there is nothing to update.
        for bar in self.query("#indexing").results(ProgressBar):
            bar.update(total=max(total, 1), progress=done)


class FailureList(ModalScreen[int | None]):
    """Every failure of the run (failed tests, then an uncaught exception); Enter goes there."""

    BINDINGS = [Binding("escape,q", "cancel", "Close")]
    DEFAULT_CSS = MODAL_CSS.format(name="FailureList")

    def __init__(self, failures: list[dict]) -> None:
        super().__init__()
        self._failure_list = failures

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Failures ({len(self._failure_list)})", style="bold"))
            yield OptionList(*[Option(self._label(failure), id=str(index))
                               for index, failure in enumerate(self._failure_list)])

    @staticmethod
    def _label(failure: dict) -> Text:
        label = Text(no_wrap=True, overflow="ellipsis")
        label.append(failure.get("nodeid") or "the program", style="bold")
        label.append(f"  {failure['type']}: {failure['message']}", style="dim")
        return label

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)


class JumpList(ModalScreen[int | None]):
    """A titled list of rows, each standing for a position (or an id); Enter gives it.
    Bookmarks, a value's history, its origin, a logpoint's hits, the watches. With
    ``filtered``, a line above the list keeps only the rows that contain what is typed."""

    BINDINGS = [Binding("escape", "cancel", "Close")]
    DEFAULT_CSS = MODAL_CSS.format(name="JumpList") + "JumpList OptionList { max-height: 60vh; border: none; }"

    def __init__(self, title: str, rows: list[tuple[Text, int]], filtered: bool = False) -> None:
        super().__init__()
        self._list_title, self._rows, self._filtered = title, rows, filtered

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._list_title, style="bold"))
            if self._filtered:
                yield Input(placeholder="filter")
            yield OptionList(*self._options(""))
            yield Label("Enter chooses, Esc closes", classes="hint")

    def _options(self, needle: str) -> list[Option]:
        return [Option(label, id=str(index)) for index, (label, _value) in enumerate(self._rows)
                if needle.casefold() in label.plain.casefold()]

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        if self._filtered:
            self.query_one(Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None and options.option_count:
            self.dismiss(self._rows[int(options.get_option_at_index(options.highlighted).id)][1])

    def key_down(self) -> None:
        if self._filtered and self.query_one(Input).has_focus:
            self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._rows[int(event.option.id)][1])

    def action_cancel(self) -> None:
        self.dismiss(None)
