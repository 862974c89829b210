"""The app's modal screens: help, a one-line prompt, a text panel, the process picker
and the first indexing pass's progress."""
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

    def __init__(self, title: str, placeholder: str = "", allow_empty: bool = False) -> None:
        """``allow_empty``: Enter on an empty line answers "" (a default), not None."""
        super().__init__()
        self._prompt_title, self._prompt_placeholder = title, placeholder
        self._allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._prompt_title)
            yield Input(placeholder=self._prompt_placeholder)

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
        if self.is_attached:
            self.query_one("#indexing", ProgressBar).update(total=max(total, 1), progress=done)


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


class BookmarkList(ModalScreen[int | None]):
    """The bookmarks (`m` makes them); Enter goes to the one chosen."""

    BINDINGS = [Binding("escape,q", "cancel", "Close")]
    DEFAULT_CSS = MODAL_CSS.format(name="BookmarkList")

    def __init__(self, bookmarks: list[dict]) -> None:
        super().__init__()
        self._bookmark_list = bookmarks

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Bookmarks ({len(self._bookmark_list)})", style="bold"))
            yield OptionList(*[Option(Text.assemble((mark["name"], "bold"), (f"  position {mark['position']}", "dim")),
                                      id=str(index)) for index, mark in enumerate(self._bookmark_list)])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._bookmark_list[int(event.option.id)]["position"])

    def action_cancel(self) -> None:
        self.dismiss(None)
