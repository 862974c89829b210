"""`retrace-tui REC`: the terminal debugger over a recording.

A thin layer: keys become verbs of `debugger.Debugger`, run on the engine thread
(`engine_thread.EngineThread`) so the screen never waits, and each answer (a `View`)
is drawn into the panes.
"""
from __future__ import annotations

import os

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.widgets import Footer, OptionList

from retrace_core.control.session import Cancelled, EngineError
from retrace_core.control.stops import NotIndexed
from retrace_core.replay.divergence import format_report
from retrace_tui import state, theming
from retrace_tui.answers import AnswerKeys
from retrace_tui.debugger import Debugger, View, process_to_open, processes
from retrace_tui.engine_thread import EngineThread
from retrace_tui.opening import Opening, hand_over
from retrace_tui.screens import FailureList, LoadingScreen, ProcessPicker, PromptScreen, TextScreen
from retrace_tui.widgets.locals import LocalsView
from retrace_tui.widgets.output import OutputView
from retrace_tui.widgets.source import SourceView
from retrace_tui.widgets.stack import StackView
from retrace_tui.widgets.status import StatusLine
from retrace_tui.widgets.timeline import Timeline

SLOW_MOVE = 0.3  # seconds before a move says it is working and that Esc cancels it


class SolidScrollBarRender(ScrollBarRender):
    """Scrollbar thumbs drawn by colour alone: the default's partial blocks (▂ ▌ ▏) read
    as stray characters inside the panes, in a terminal without the colours most of all."""

    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8


class RetraceApp(AnswerKeys, App[None]):
    """The terminal debugger: keys become :class:`Debugger` calls run on the engine's thread,
    and each answer is drawn in every pane at once (``_show``); it holds no engine state."""

    TITLE = "retrace-tui"
    CSS = """
    #main { height: 1fr; }
    #code { width: 3fr; }
    #side { width: 2fr; min-width: 30; }
    SourceView { height: 1fr; border: round $panel; border-title-color: $text-muted; }
    SourceView:focus { border: round $accent; }
    OutputView { height: 30%; min-height: 4; }
    StackView { height: auto; max-height: 40%; min-height: 3; }
    LocalsView { height: 1fr; }
    Timeline { height: 30%; min-height: 5; border: round $panel; border-title-color: $text-muted; }
    Timeline:focus-within { border: round $accent; }
    /* A small terminal (80x24): the timeline folds to its strip and the current event
       until it has the focus (t), the side pane gets the room the locals need. */
    Screen.-small #side { width: 45%; }
    Screen.-small OutputView { height: 25%; min-height: 3; }
    Screen.-small Timeline { height: 4; min-height: 4; }
    Screen.-small Timeline:focus-within { height: 60%; }
    """
    SMALL = (100, 32)  # columns, rows: below either, the small layout
    BINDINGS = [
        Binding("n", "move('next')", "Next"),
        Binding("b", "move('back')", "Back"),
        Binding("s", "move('step_into')", "Step"),
        Binding("S", "move('back_into')", "Step back", show=False),
        Binding("f", "move('finish')", "Finish", show=False),
        Binding("F", "move('back_finish')", "Back out", show=False),
        Binding("c", "move('continue_')", "Continue"),
        Binding("C", "move('reverse_continue')", "Rev. continue", show=False),
        Binding("x", "toggle_breakpoint(False)", "Breakpoint", show=False),
        Binding("X", "toggle_breakpoint(True)", "Conditional breakpoint", show=False),
        Binding("g", "failure(1)", "Failure"),
        Binding("G", "failure(-1)", "Previous failure", show=False),
        Binding("l", "failure_list", "Failures", show=False),
        Binding("left_square_bracket", "event(-1)", "Prev. event", show=False, key_display="["),
        Binding("right_square_bracket", "event(1)", "Next event", show=False, key_display="]"),
        Binding("t", "focus_timeline", "Timeline"),
        Binding("T", "switch_thread", "Next thread", show=False),
        Binding("e", "evaluate", "Evaluate"),
        Binding("w", "watch", "Watch a value (c, C stop where it changes)", show=False),
        Binding("W", "watch_list", "Watches (Enter deletes one)", show=False),
        Binding("h", "history", "History of a value in this call", show=False),
        Binding("o", "origin", "Where a value came from", show=False),
        Binding("L", "logpoint", "Logpoint: print at every run of the cursor line", show=False),
        Binding("slash", "search", "Search the timeline", show=False, key_display="/"),
        Binding("J", "just_my_code", "Just my code on/off", show=False),
        Binding("m", "bookmark", "Bookmark this position", show=False),
        Binding("apostrophe", "bookmarks", "Go to a bookmark", show=False, key_display="'"),
        Binding("escape", "cancel", "Cancel a move", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, recording: str, pid: int | None = None, theme_name: str | None = None,
                 opening: Opening | None = None, all_code: bool = False) -> None:
        """``opening``: the debugger already being opened (see `opening.Opening`);
        ``all_code``: start with "just my code" off."""
        super().__init__()
        self.recording = recording
        self.pid = pid
        self.all_code = all_code
        self.opening = opening
        self.themes = theming.load_themes()
        self.chosen_theme = theming.resolve(theme_name, self.themes)
        self.debugger: Debugger | None = None
        self.view: View | None = None
        self.engine = EngineThread(self._deliver)
        self._opening: Opening | None = None
        self._slow_timer = None

    # -- start ---------------------------------------------------------------------

    def on_resize(self, event) -> None:
        self._lay_out(event.size.width, event.size.height)

    def _lay_out(self, width: int, height: int) -> None:
        small = width < self.SMALL[0] or height < self.SMALL[1]
        self.screen_stack[0].set_class(small, "-small")
        locals_view = self.query_one(LocalsView)
        if locals_view.compact != (width < self.SMALL[0]):
            locals_view.compact = width < self.SMALL[0]  # name = value, without the type
            if self.view is not None:
                locals_view.show(self.view.locals, self.view.returned)

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="code"):
                yield SourceView(id="source")
                yield OutputView(id="output")
            with Vertical(id="side"):
                yield StackView(id="stack")
                yield LocalsView(id="locals")
        yield Timeline(id="timeline")
        yield StatusLine(id="status")
        # The palette's key is on the help screen: the footer's room is for ? and q.
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        ScrollBar.renderer = SolidScrollBarRender
        self._lay_out(self.size.width, self.size.height)
        for theme in self.themes.values():
            self.register_theme(theme.textual)
        self.theme = self.chosen_theme.textual.name
        self.query_one(SourceView).border_title = "Source"
        self.query_one(Timeline).border_title = "Timeline"
        pid = process_to_open(self.recording, self.pid)
        if pid is None:
            self.push_screen(ProcessPicker(processes(self.recording)), self._open)
        else:
            self._open(pid)

    def _open(self, pid: int | None) -> None:
        loading = LoadingScreen(os.path.basename(self.recording))
        self.push_screen(loading)
        opening = self.opening if self.opening is not None and self.opening.pid == pid else \
            Opening(self.recording, pid, self.all_code)
        self._opening = opening
        ticker = self.set_interval(0.1, lambda: self._opening_progress(loading, opening))
        opening.then(lambda debugger: self._deliver(lambda: (ticker.stop(), self._opened(debugger, loading))),
                     lambda error: self._deliver(lambda: (ticker.stop(), self._failed_to_open(error))))

    def _opening_progress(self, loading: LoadingScreen, opening: Opening) -> None:
        """While the run is indexed: its progress; as soon as a first look has found the failure, its screen."""
        done, total = opening.progress
        if self.debugger is None and opening.preview is not None and self.screen is loading:
            self.debugger, opening.preview_debugger = opening.preview_debugger, None  # ours now
            self.pop_screen()
            self._show(opening.preview)
            self.query_one(SourceView).focus()
        if self.debugger is not None:  # (the empty timeline says it too: on a small screen the status is cut)
            percent = f"{100 * done // total}%" if total else "starting"
            self.query_one(StatusLine).indexing(percent)
            self.query_one(Timeline).border_title = f"Timeline: indexing the run, {percent}"
        else:
            loading.progress(done, total)

    def _opened(self, debugger: Debugger, loading: LoadingScreen | None = None) -> None:
        looked, self.debugger = self.debugger, debugger  # a first look's, when its screen is shown
        if loading is None or loading in self.screen_stack:
            self.pop_screen()
        index = debugger.session.index
        self.query_one(Timeline).set_entries(debugger.entries, index.end)
        self.query_one(Timeline).border_title = "Timeline"
        self.query_one(SourceView).focus()
        restored = state.summary(debugger.saved)
        if restored:  # after the loading screen has gone: a toast raised under it was not shown
            self.call_after_refresh(self.notify, restored, timeout=8)
        if index.divergence:
            self.push_screen(TextScreen("The replay diverged: the run is replayable up to here",
                                        format_report(index.divergence), error=True))
        if looked is not None:  # after the first look's moves under way, on the engine thread
            self._submit(lambda: hand_over(looked, debugger))
            return
        if self._opening is not None:
            self.engine.submit(self._opening.close_preview, lambda _: None, lambda _: None)
        if index.failures():
            self._submit(lambda: debugger.failure(0))
        else:
            self._run_move("goto", 1)

    def _failed_to_open(self, error: BaseException) -> None:
        self.exit(message=f"retrace-tui: {error}", return_code=2)

    # -- moving --------------------------------------------------------------------

    def action_move(self, verb: str) -> None:
        self._run_move(verb)

    def action_failure(self, step: int) -> None:
        debugger = self.debugger
        if debugger is None or self._not_indexed():
            return
        if not debugger.session.index.failures():
            self.query_one(StatusLine).show(self.view, "no failure: no test failed and the program did not raise")
            return
        self._submit(lambda: debugger.failure(step))

    def action_failure_list(self) -> None:
        debugger = self.debugger
        if debugger is None or self._not_indexed():
            return
        failures = debugger.session.index.failures()
        if not failures:
            self.query_one(StatusLine).show(self.view, "no failure: no test failed and the program did not raise")
            return

        def go(which: int | None) -> None:
            if which is not None:
                self._submit(lambda: debugger.failure_at(which))

        self.push_screen(FailureList(failures), go)

    def _run_move(self, verb: str, *arguments, coalesce: str | None = None) -> None:
        debugger = self.debugger
        if debugger is not None:
            self._submit(lambda: debugger.move(verb, *arguments), coalesce)

    def _submit(self, move, coalesce: str | None = None, from_timeline: bool = False) -> None:
        """Run a move on the engine thread; say so if it takes a while. The timeline's
        selection follows every move but its own."""
        if self._slow_timer is None:
            self._slow_timer = self.set_timer(SLOW_MOVE, self._say_working)
        self.engine.submit(move, lambda view: self._show(view, follow=not from_timeline), self._move_failed,
                           coalesce=coalesce)

    def _say_working(self) -> None:
        if self._slow_timer is None:  # the move was drawn before this tick got to run
            return
        self._slow_timer = None
        if not self.engine.idle():
            self.query_one(StatusLine).say("working… (Esc cancels)")

    def action_cancel(self) -> None:
        if self.debugger is not None and not self.engine.idle():
            self.debugger.session.cancel()

    def action_event(self, step: int) -> None:
        if self.debugger is None or self.view is None or self._not_indexed():
            return
        number = self.debugger.neighbour_event(self.view.position, step)
        if number is None:
            self.query_one(StatusLine).show(self.view, "no more events that way")
        else:
            self._run_move("goto_event", number)

    def on_timeline_scrubbed(self, message: Timeline.Scrubbed) -> None:
        self._jump(message.entry)

    def on_timeline_jumped(self, message: Timeline.Jumped) -> None:
        self._jump(message.entry)

    def _jump(self, entry) -> None:
        debugger = self.debugger
        if debugger is not None:
            self._submit(lambda: debugger.jump(entry), coalesce="scrub", from_timeline=True)

    def action_switch_thread(self) -> None:
        debugger = self.debugger
        if debugger is not None and self.view is not None and not self.view.finished:
            self._submit(lambda: debugger.switch_thread(1))

    def action_focus_timeline(self) -> None:
        self.query_one(Timeline).focus_list()

    def _move_failed(self, error: BaseException) -> None:
        self._stop_slow_timer()
        if isinstance(error, Cancelled) and self.view is not None and self.debugger is not None:
            self.query_one(StatusLine).say("cancelled; going back to where we were")
            debugger, position = self.debugger, self.view.position

            def back() -> View:
                view = debugger.move("goto", position)
                view.message = f"cancelled: back at position {position}, where the move started"
                return view

            self._submit(back)
            return
        if isinstance(error, NotIndexed) and self.view is not None:
            self.query_one(StatusLine).show(self.view, str(error))
            return
        if not isinstance(error, EngineError):  # our bug: show it whole, and stay usable
            import traceback

            details = "".join(traceback.format_exception(error))
            self.push_screen(TextScreen("retrace-tui failed (a bug: please report it)", details, error=True))
            return
        self.push_screen(TextScreen("The engine could not do that", str(error), error=True))
        if self.view is not None:
            self.query_one(StatusLine).show(self.view, f"error: {error}")

    def _stop_slow_timer(self) -> None:
        if self._slow_timer is not None:
            self._slow_timer.stop()
            self._slow_timer = None

    # -- drawing ---------------------------------------------------------------------

    def _show(self, view: View, follow: bool | None = None) -> None:
        self._stop_slow_timer()
        self.view = view
        source = self.query_one(SourceView)
        if view.finished:
            source.show(None, None, None, set())
        else:
            source.show(view.source_file, view.source_text, view.current_line,
                        self.debugger.breakpoint_lines(view.source_file) if self.debugger else set())
        self.query_one(StackView).show(view.frames, view.frame_index, view.threads, view.shown_thread,
                                       view.stack_rows)
        self.query_one(LocalsView).show(view.locals, view.returned)
        self.query_one(OutputView).show(view.output)
        if view.indexed:  # a first look's positions are not the timeline's (see _opening_progress)
            self.query_one(Timeline).set_current(view.position, follow)
        self.query_one(StatusLine).show(view)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if isinstance(event.option_list, StackView) and self.debugger is not None and self.view is not None \
                and event.option.id.isdigit():  # not a row of folded library frames
            index = int(event.option.id)
            if index != self.view.frame_index:
                debugger = self.debugger
                self.engine.submit(lambda: debugger.select_frame(index), self._show, self._move_failed)

    def on_locals_view_need_children(self, message: LocalsView.NeedChildren) -> None:
        debugger, node = self.debugger, message.node
        if debugger is None:
            return
        self.engine.submit(lambda: debugger.expand(node.data.path),
                           lambda children: self.query_one(LocalsView).add_children(node, children),
                           self._move_failed)

    def on_locals_view_need_full_value(self, message: LocalsView.NeedFullValue) -> None:
        debugger, path = self.debugger, message.path
        if debugger is None:
            return
        self.engine.submit(lambda: debugger.full_repr(path),
                           lambda text: self.push_screen(TextScreen(".".join(path), text)), self._move_failed)

    # -- breakpoints and evaluation ------------------------------------------------------

    def action_toggle_breakpoint(self, with_condition: bool) -> None:
        source = self.query_one(SourceView)
        if source.file is not None:
            self._toggle(source.file, source.cursor_line, with_condition)

    def on_source_view_breakpoint_toggled(self, message: SourceView.BreakpointToggled) -> None:
        message.stop()
        self._toggle(message.file, message.line, message.with_condition)

    def _toggle(self, file: str, line: int, with_condition: bool) -> None:
        if self.debugger is None:
            return

        debugger = self.debugger

        def apply(condition: str | None) -> None:
            if with_condition and condition is None:
                return

            def shown(said: str) -> None:
                source = self.query_one(SourceView)
                if source.file == file:
                    source.set_breakpoints(debugger.breakpoint_lines(file))
                if self.view is not None:
                    self.query_one(StatusLine).show(self.view, said)

            # On the engine's thread, after the move under way: a step past library code
            # stands in for the breakpoints while it runs (user_steps.py).
            self.engine.submit(lambda: debugger.toggle_breakpoint(file, line, condition), shown, self._move_failed)

        if with_condition:
            self.push_screen(PromptScreen(f"Stop at line {line} only if:", "an expression, e.g. total > 10"), apply)
        else:
            apply(None)

    def action_evaluate(self) -> None:
        if self.debugger is None or self.view is None or self.view.finished:
            return
        debugger = self.debugger

        def evaluate(expression: str | None) -> None:
            if expression:
                self.engine.submit(lambda: debugger.evaluate(expression),
                                   lambda value: self.push_screen(TextScreen(expression, value["repr"])),
                                   lambda error: self.push_screen(TextScreen(expression, str(error), error=True)))

        self.push_screen(PromptScreen("Evaluate in the selected frame:", "an expression"), evaluate)

    # -- the rest -------------------------------------------------------------------------


    def watch_theme(self, name: str) -> None:
        chosen = next((theme for theme in self.themes.values() if theme.textual.name == name), None)
        style = chosen.pygments_style if chosen else ("monokai" if self.current_theme.dark else "default")
        self.query_one(SourceView).set_pygments_style(style)
        if chosen is not None and chosen is not self.chosen_theme:
            self.chosen_theme = chosen
            theming.save_theme(chosen.short_name)

    def _deliver(self, callback) -> None:
        """Run ``callback`` on the UI thread (from the engine thread), when a call has
        ended: an Esc pressed for it ends with it, the next call starts afresh."""
        if self.debugger is not None:
            self.debugger.session.end_cancel()
        try:
            if self.is_running:  # not after a quit while the engine (or the indexing pass) worked
                self.call_from_thread(callback)
        except RuntimeError:
            pass  # the app has closed while the engine answered

    async def action_quit(self) -> None:
        self._close_sessions()
        self.exit()

    def on_unmount(self) -> None:  # however the app ends, its replay processes end with it
        self._close_sessions()

    def _close_sessions(self) -> None:
        self.engine.close()
        for opening in (self.opening, self._opening):  # the one started early may be unused
            if opening is not None:
                opening.close()
        if self.debugger is not None:
            self.debugger.close()
