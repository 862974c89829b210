"""The app's keys that ask questions rather than step: watch a value (`w`, `W`), its
history (`h`), where it came from (`o`), a logpoint after the fact (`L`), search the
timeline (`/`), bookmarks (`m`, `'`) and just my code (`J`).

A mixin of `RetraceApp` (kept apart so the app stays short): each key gathers what it
needs from the screen (the selected local, the source cursor line), runs the question
on the engine thread, and shows the answer, mostly as a list to jump from.
"""
from __future__ import annotations

import os

from rich.text import Text

from retrace_tui.screens import HelpScreen, JumpList, PromptScreen
from retrace_tui.widgets.locals import LocalsView
from retrace_tui.widgets.source import SourceView
from retrace_tui.widgets.status import StatusLine
from retrace_tui.widgets.timeline import Timeline


def expression_of(path: list[str]) -> str:
    """The Python expression for a locals-tree path: ``receipt.lines[0]``, ``prices['tea']``."""
    expression = path[0]
    for step in path[1:]:
        if step.startswith("[") and step.endswith("]"):
            expression += step
        elif step.isidentifier():
            expression += f".{step}"
        else:  # a dict key, as its repr
            expression += f"[{step}]"
    return expression


def change_row(file: str, change: dict) -> Text:
    """``receipt.py:7  0.35  (was 0.1)  position 18``: one change of a value's history."""
    row = Text.assemble((f"{file}:{change['line']}  ", "dim"), (str(change["value"]), "bold"))
    old = change.get("old")
    if old is not None and not str(old).startswith("<not set"):  # the engine's text for "no value yet"
        row.append(f"  (was {old})", style="dim")
    row.append(f"  position {change['position']}", style="dim")
    return row


class AnswerKeys:
    """Actions of the question keys; mixed into RetraceApp, whose helpers they use."""

    # -- helpers ---------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if self.view is not None:
            self.query_one(StatusLine).show(self.view, message)

    def _ask(self, question, done, working: str) -> None:
        """Run ``question()`` on the engine thread, saying ``working`` meanwhile (Esc cancels)."""
        self.query_one(StatusLine).say(f"{working}… (Esc cancels)")
        self.engine.submit(question, done, self._move_failed)

    def _selected_local(self) -> str | None:
        """The expression of the locals tree's cursor row, when it is a local."""
        node = self.query_one(LocalsView).cursor_node
        if node is None or node.data is None or node.data.path[0].startswith("assert "):
            return None
        return expression_of(node.data.path)

    def _with_expression(self, title: str, then, default: str = "") -> None:
        """The selected local when the locals pane has the focus, else ask for one (the
        line starts with the selected local, else ``default``)."""
        chosen = self._selected_local() if self.query_one(LocalsView).has_focus else None
        if chosen:
            then(chosen)
            return
        self.push_screen(PromptScreen(title, "a local, an attribute, an item: rate, cart.total, prices['tea']",
                                      value=self._selected_local() or default),
                         lambda text: then(text) if text else None)

    def _not_indexed(self) -> bool:
        """A first look's debugger (before the index): say what waits for the index."""
        if self.debugger is None or self.debugger.session.indexed:
            return False
        if self.view is not None:
            self.query_one(StatusLine).show(self.view, "that needs the whole run: it is still being indexed")
        return True

    def _usable(self) -> bool:
        return self.debugger is not None and self.view is not None and not self.view.finished

    # -- watches, history, origin ------------------------------------------------------------

    def action_watch(self) -> None:
        if not self._usable():
            return
        debugger = self.debugger
        last = debugger.saved.watches[-1] if debugger.saved.watches else None  # from this or an earlier session
        remembered = "" if last is None else \
            last["expression"] + (f" if {last['condition']}" if last["condition"] else "")
        self._with_expression("Watch (c and C stop where its value changes; `x if x > 3` for a condition):",
                              lambda text: self._ask(lambda: debugger.watch(text), self._say, f"watching {text}"),
                              remembered)

    def action_watch_list(self) -> None:
        debugger = self.debugger
        if debugger is None:
            return
        watches = debugger.watches()
        if not watches:
            self._say("no watches: w on a local (or an expression) sets one")
            return

        def delete(watch_id: int | None) -> None:
            if watch_id is not None:
                self.engine.submit(lambda: debugger.unwatch(watch_id), self._say, self._move_failed)

        rows = [(Text.assemble((f"{watch['id']}  " if watch["id"] > 0 else "-  ", "dim"),
                               (watch["expression"], "bold"),
                               (f" if {watch['condition']}" if watch["condition"] else "", ""),
                               (f"  (from the last session: set at the first stop in {watch['waits']}())"
                                if watch.get("waits") else "", "dim")), watch["id"])
                for watch in watches]
        self.push_screen(JumpList("Watches (Enter deletes one)", rows), delete)

    def action_history(self) -> None:
        if not self._usable():
            return
        debugger = self.debugger

        def show(expression: str) -> None:
            def listed(changes: list[dict]) -> None:
                self._say(f"history of {expression}: {len(changes)} change{'s' if len(changes) != 1 else ''}")
                if changes:
                    file = os.path.basename(self.view.source_file or "")
                    rows = [(change_row(file, change), change["position"]) for change in changes]
                    self.push_screen(JumpList(f"History of {expression} in this call (Enter goes there)", rows),
                                     self._go_to)

            self._ask(lambda: debugger.history(expression), listed, f"history of {expression}")

        self._with_expression("History of:", show)

    def action_origin(self) -> None:
        if not self._usable():
            return
        debugger = self.debugger

        def show(expression: str) -> None:
            def found(origin: dict) -> None:
                rows = []
                if origin.get("position") is not None:
                    rows.append((Text.assemble(("assigned at ", "dim"), (f"line {origin['line']}", "bold"),
                                               (f"  position {origin['position']}", "dim")), origin["position"]))
                event = origin.get("event")
                if event:
                    rows.append((Text.assemble(("came in with ", "dim"), (f"event {event['event']} ", "bold"),
                                               (f"{event['function']} → {event['result'][:80]}", "")),
                                 max(event["position"], 1)))
                if not rows:
                    self._say(f"{expression} = {origin.get('value')}: not changed in this call, and no recorded "
                              "event brought that value in")
                    return
                self.push_screen(JumpList(f"Where {expression} = {origin.get('value')} came from (Enter goes there)",
                                          rows), self._go_to)

            self._ask(lambda: debugger.origin(expression), found, f"looking for where {expression} came from")

        self._with_expression("Where did this value come from:", show)

    def _go_to(self, position: int | None) -> None:
        if position is not None and not self._not_indexed():
            self._run_move("goto", position)

    def _go_to_run(self, runs: list[dict], chosen: int | None) -> None:
        """A logpoint's run: its position is found as it is gone to (sightings.py)."""
        if chosen is not None and not self._not_indexed():
            self._run_move("goto_run", runs[chosen])

    # -- logpoints -----------------------------------------------------------------------------

    def action_logpoint(self) -> None:
        """A logpoint on the cursor line; when logpoints were made before (this session or
        an earlier one), first the list of them: Enter on one lists its runs again."""
        source = self.query_one(SourceView)
        debugger = self.debugger
        if debugger is None or source.file is None:
            return
        file, line = source.file, source.cursor_line

        def log(expression: str | None) -> None:
            if expression:
                self._run_logpoint(file, line, expression)

        def ask() -> None:
            self.push_screen(PromptScreen(f"Print at every run of line {line}, across the whole recording:",
                                          "an expression, e.g. total, len(items)"), log)

        saved = list(debugger.saved.logpoints)
        if not saved:
            ask()
            return

        def chosen(which: int | None) -> None:
            if which == -1:
                ask()
            elif which is not None:
                self._run_logpoint(*saved[which])

        rows = [(Text.assemble(("+ a new logpoint at ", "dim"), (f"{os.path.basename(file)}:{line}", "bold")), -1)]
        rows += [(Text.assemble((f"{os.path.basename(where)}:{at}  ", "dim"), (expression, "bold")), index)
                 for index, (where, at, expression) in enumerate(saved)]
        self.push_screen(JumpList(f"Logpoints ({len(saved)}; Enter lists the runs of one)", rows), chosen)

    def _run_logpoint(self, file: str, line: int, expression: str) -> None:
        debugger = self.debugger

        def listed(hits: list[dict]) -> None:
            where = f"{os.path.basename(file)}:{line}"
            self._say(f"logpoint {where}: {len(hits)} hit{'s' if len(hits) != 1 else ''}")
            rows = [(Text.assemble((f"event {hit['event']:>6}  ", "dim"), (f"{expression} = ", "dim"),
                                   (str(hit["value"]), "bold")), number) for number, hit in enumerate(hits)]
            if rows:
                self.push_screen(JumpList(f"{expression} at every run of {where} (type to filter; Enter goes "
                                          "there)", rows, filtered=True), lambda chosen: self._go_to_run(hits, chosen))

        self._ask(lambda: debugger.logpoint(file, line, expression), listed, "running the logpoint over the run")

    # -- just my code, search, bookmarks ----------------------------------------------------------

    def action_just_my_code(self) -> None:
        if self._usable():
            self.engine.submit(self.debugger.toggle_just_my_code, self._show, self._move_failed)

    def action_search(self) -> None:
        if self.debugger is None:
            return

        def search(text: str | None) -> None:
            if not text:
                return
            timeline = self.query_one(Timeline)
            entry = timeline.search(text)
            timeline.focus_list()
            if entry is None:
                self._say(f"no timeline entry contains {text!r}")
            else:
                self._jump(entry)

        self.push_screen(PromptScreen("Search the timeline (calls, arguments, results):",
                                      "e.g. prices.json, uuid4, 13.49"), search)

    def action_help(self) -> None:
        keys = [(binding.key_display or binding.key, binding.description) for binding in self.BINDINGS]
        self.push_screen(HelpScreen(keys))

    def action_bookmark(self) -> None:
        debugger, view = self.debugger, self.view
        if debugger is None or view is None or self._not_indexed():
            return

        default = f"{os.path.basename(view.source_file)}:{view.current_line}" if view.source_file else ""

        def mark(name: str | None) -> None:
            if name is not None:  # after the move under way, as x (its breakpoints are saved too)
                self.engine.submit(lambda: debugger.add_bookmark(view.position, name or default), self._say,
                                   self._move_failed)

        self.push_screen(PromptScreen(f"Bookmark position {view.position} as (Enter: {default or 'its position'}):",
                                      "a name", allow_empty=True), mark)

    def action_bookmarks(self) -> None:
        debugger = self.debugger
        if debugger is None or self._not_indexed():
            return
        if not debugger.bookmarks:
            self._say("no bookmarks yet: m marks the position")
            return
        rows = [(Text.assemble((mark["name"], "bold"), (f"  position {mark['position']}", "dim")), mark["position"])
                for mark in debugger.bookmarks]
        self.push_screen(JumpList(f"Bookmarks ({len(rows)})", rows), self._go_to)
