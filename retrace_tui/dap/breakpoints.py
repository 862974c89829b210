"""Breakpoints as DAP has them: line breakpoints with conditions and hit conditions, the
"failures" exception filter, and data breakpoints over the engine's watches.

A line breakpoint with a plain condition is a `Session` breakpoint (the engine checks
it). Two kinds of stop are not the engine's: a breakpoint with a hit condition ("the
3rd time", "every 2nd") and the failures filter (the failing line of a failed test, the
line an uncaught exception came from). Both are a list of *positions*, computed once
(every hit of the line in the whole recording, by a logpoint run; each failure's stop,
by `Session.goto_failure`): continue and reverseContinue stop at the nearest of them
when it comes before the engine's own stop.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

HIT_CONDITION = re.compile(r"^\s*(==|>=|<=|>|<|%)?\s*(\d+)\s*$")
FAILURE_LIMIT = 20  # failures whose stops are computed for the filter


@dataclass
class Landing:
    """Where a continue ended, and why, when it was a stop of ours."""

    position: int
    reason: str
    ids: list[int] = field(default_factory=list)
    description: str | None = None
    text: str | None = None


def source_path(adapter, source: dict) -> str:
    """The recorded path a DAP ``source`` names (by path, or by our sourceReference)."""
    from retrace_core.control.assertions import resolve_file
    from retrace_tui.dap.adapter import RequestError

    if not isinstance(source, dict):
        raise RequestError("argument 'source' must be an object")
    if source.get("sourceReference"):
        return adapter.sources.path(source["sourceReference"])
    path = source.get("path")
    if not isinstance(path, str) or not path:
        raise RequestError("the source has neither a 'path' nor a 'sourceReference'")
    return resolve_file(adapter.session, path)


def _hit_test(text: str):
    match = HIT_CONDITION.match(text)
    if match is None:
        return None
    operator, number = match.group(1) or "==", int(match.group(2))
    return {"==": lambda n: n == number, ">=": lambda n: n >= number, "<=": lambda n: n <= number,
            ">": lambda n: n > number, "<": lambda n: n < number,
            "%": lambda n: number > 0 and n % number == 0}[operator]


def _not_program_code(file: str) -> str | None:
    """Why the engine never stops in ``file`` (see docs/architecture.md, Positions), or None."""
    import retrace_core
    import retrace_tui

    standard = os.path.join(os.path.dirname(os.__file__), "")
    ours = [os.path.join(os.path.dirname(package.__file__), "") for package in (retrace_core, retrace_tui)]
    if file.startswith(standard) and not any(part in file for part in ("site-packages", "dist-packages")):
        return f"{os.path.basename(file)} is in the standard library, whose lines the debugger does not step through"
    if any(file.startswith(folder) for folder in ours):
        return f"{os.path.basename(file)} is retrace-tui's own code, not the program's"
    return None


class Breakpoints:
    """The client's breakpoints of every kind, and the stops that are not the engine's."""

    def __init__(self, adapter) -> None:
        self.adapter = adapter
        self.lines: dict[str, list[dict]] = {}  # file -> [{id, line, condition, positions?}]
        self.filters: set[str] = {"failures"}
        self.data: dict[str, dict] = {}  # dataId -> {id, watch}
        self._failures: list[Landing] | None = None
        self._next_id = 1

    def _id(self) -> int:
        number, self._next_id = self._next_id, self._next_id + 1
        return number

    # -- line breakpoints ------------------------------------------------------------------

    def set_lines(self, arguments: dict) -> dict:
        from retrace_core.control.assertions import source_text
        from retrace_tui.dap.adapter import RequestError
        from retrace_tui.user_steps import executable_lines

        session, adapter = self.adapter.session, self.adapter
        file = source_path(adapter, arguments.get("source"))
        asked = arguments.get("breakpoints")
        if asked is None:
            asked = [{"line": line} for line in arguments.get("lines") or []]
        if not isinstance(asked, list) or not all(isinstance(b, dict) and isinstance(b.get("line"), int)
                                                   for b in asked):
            raise RequestError("'breakpoints' must be a list of objects with an integer 'line'")
        for old in self.lines.pop(file, []):
            session.clear_breakpoint(file, old["line"])
        text = source_text(session, file)
        code_lines = set(executable_lines(file, text)) if text is not None else set()
        answered, kept = [], []
        for wanted in asked:
            line = adapter.line_in(wanted["line"])
            condition = (wanted.get("condition") or "").strip() or None
            hit = (wanted.get("hitCondition") or "").strip() or None
            entry = {"id": self._id(), "line": line, "condition": condition, "hit": hit}
            problem = self._problem(file, text, code_lines, line, condition, hit)
            if problem is None and hit is not None:
                entry["positions"], problem = self._hit_positions(file, line, condition, hit)
            shown = {"id": entry["id"], "verified": problem is None, "line": adapter.line_out(line)}
            if problem is not None:
                shown["message"] = problem
            else:
                kept.append(entry)
                if hit is None:
                    session.set_breakpoint(file, line, condition)
            answered.append(shown)
        self.lines[file] = kept
        source = {"path": file} if os.path.isfile(file) else arguments.get("source")
        for shown in answered:
            shown["source"] = source
        return {"breakpoints": answered}

    @staticmethod
    def _problem(file, text, code_lines, line, condition, hit) -> str | None:
        """Why a breakpoint cannot be hit, or None."""
        if text is None:
            return f"{os.path.basename(file)} is neither in the recording nor on this disk"
        untraced = _not_program_code(file)
        if untraced:
            return untraced
        if line not in code_lines:
            return f"no code on line {line} of {os.path.basename(file)}: it never runs"
        if condition is not None:
            try:
                compile(condition, "<condition>", "eval")
            except SyntaxError as exc:
                return f"the condition is not a Python expression: {exc.msg}"
        if hit is not None and _hit_test(hit) is None:
            return f"hit condition {hit!r}: use N, ==N, >=N, >N, <N, <=N or %N"
        return None

    def _hit_positions(self, file: str, line: int, condition: str | None, hit: str):
        """The positions where a hit-conditional breakpoint stops: every hit of the line
        (where the condition holds) in the recording, counted, kept when the count passes."""
        from retrace_core.control.conditions import is_pure
        from retrace_core.control.session import EngineError

        if condition is not None and not is_pure(condition):
            return [], "with a hit condition, the condition must be free of side effects (names, attributes, operators)"
        try:
            hits = self.adapter.session.logpoint(file, line, f"bool({condition})" if condition else "None",
                                                 positions=True)
        except EngineError as exc:
            return [], str(exc)
        if condition:
            hits = [h for h in hits if h["value"] == "True"]
        test = _hit_test(hit)
        return [h["position"] for number, h in enumerate(hits, 1) if test(number)], None

    def hit_at(self, stop) -> list[int]:
        return [b["id"] for b in self.lines.get(stop.file, []) if b["line"] == stop.line and b["hit"] is None]

    # -- exception filters -------------------------------------------------------------------

    def set_filters(self, arguments: dict) -> dict:
        filters = arguments.get("filters") or []
        unknown = [f for f in filters if f != "failures"]
        self.filters = {f for f in filters if f == "failures"}
        return {"breakpoints": [{"verified": f == "failures", **({} if f == "failures" else
                                 {"message": f"unknown filter {f!r}"})} for f in [*self.filters, *unknown]]}

    def _failure_landings(self) -> list[Landing]:
        """Each failure's stop (the failing line, the last time it ran before the failure)."""
        if self._failures is None:
            session = self.adapter.session
            stop, landings = session.stop, []
            for which, failure in enumerate(session.index.failures()[:FAILURE_LIMIT]):
                text = f"{failure['type']}: {failure['message']}"
                where = f" in {failure['nodeid']}" if failure.get("nodeid") else ""
                landings.append(Landing(session.goto_failure(which).position, "exception", [],
                                        f"{text}{where}", text))
            if landings:
                self._back_to(stop)
            self._failures = landings
        return self._failures

    def _back_to(self, stop) -> None:
        session = self.adapter.session
        if stop.finished:
            session.goto(session.index.end)
            session.step_into()
        else:
            session.goto(stop.position)

    # -- continuing with our stops --------------------------------------------------------------

    def _landings(self) -> list[Landing]:
        landings = list(self._failure_landings()) if "failures" in self.filters else []
        for entries in self.lines.values():
            for entry in entries:
                landings += [Landing(p, "breakpoint", [entry["id"]]) for p in entry.get("positions", [])]
        return landings

    def continue_(self, verb: str):
        """continue_ or reverse_continue, stopping at our stops too; (stop, Landing or None)."""
        session = self.adapter.session
        here, finished = session.stop.position, session.stop.finished
        landings = self._landings()
        engine_stops = bool(session.breakpoints) or bool(session.watchlist.watches)
        if verb == "continue_":
            ahead = [land for land in landings if land.position > here and not finished]
            first = min(ahead, key=lambda land: land.position) if ahead else None
            if first is not None and not engine_stops:
                return session.goto(first.position), first
            stop = session.continue_()
            if first is not None and (stop.finished or first.position < stop.position):
                return session.goto(first.position), first
            return stop, None
        behind = [land for land in landings if land.position < here or (finished and land.position <= here)]
        last = max(behind, key=lambda land: land.position) if behind else None
        if not engine_stops:
            return session.goto(last.position if last is not None else 1), last
        stop = session.reverse_continue()
        if last is not None and last.position > stop.position:
            return session.goto(last.position), last
        return stop, None

    # -- data breakpoints (watches) ---------------------------------------------------------------

    def data_info(self, arguments: dict) -> dict:
        from retrace_core.control.conditions import is_pure
        from retrace_tui.dap.references import FrameRef, child_expression

        adapter, session = self.adapter, self.adapter.session
        name = arguments.get("name")
        if not isinstance(name, str):
            from retrace_tui.dap.adapter import RequestError

            raise RequestError("missing argument 'name'")
        reference = arguments.get("variablesReference")
        if reference:
            parent = adapter.refs.value(reference)
            frame = parent.frame
            expression = name if parent.kind == "locals" else child_expression(parent.expression, parent.kind, name)
        else:
            frame = adapter.refs.frame(arguments["frameId"]) if arguments.get("frameId") else \
                FrameRef(session.stop.thread, 0)
            expression = name
        refused = None
        if session.stop.finished:
            refused = "the program has ended here"
        elif frame.thread != session.stop.thread:
            refused = "a data breakpoint watches a frame of the thread that stopped"
        elif expression is None or not is_pure(expression):
            refused = f"{name} cannot be watched: only expressions without side effects can"
        if refused:
            return {"dataId": None, "description": refused}
        data_id = json.dumps([frame.index, expression])
        return {"dataId": data_id, "description": f"{expression} (in its frame's call)", "accessTypes": ["write"],
                "canPersist": False}

    def set_data(self, arguments: dict) -> dict:
        from retrace_core.control.session import EngineError

        session = self.adapter.session
        wanted = arguments.get("breakpoints") or []
        ids = [b.get("dataId") for b in wanted if isinstance(b, dict)]
        for data_id in list(self.data):
            if data_id not in ids:
                watch = self.data.pop(data_id)["watch"]
                if watch in session.watchlist.watches:
                    session.unwatch(watch)
        answered = []
        for asked in wanted:
            data_id = asked.get("dataId") if isinstance(asked, dict) else None
            entry = self.data.get(data_id)
            if entry is None or entry["watch"] not in session.watchlist.watches:
                try:
                    frame, expression = json.loads(data_id)
                    condition = (asked.get("condition") or "").strip() or None
                    entry = {"id": self._id(), "watch": session.watch(expression, frame, condition)}
                except (EngineError, TypeError, ValueError) as exc:
                    answered.append({"verified": False, "message": f"cannot watch: {exc}"})
                    continue
                self.data[data_id] = entry
            answered.append({"id": entry["id"], "verified": True})
        return {"breakpoints": answered}

    def watch_hit(self, stop) -> list[int]:
        watch = (stop.watch or {}).get("id")
        return [entry["id"] for entry in self.data.values() if entry["watch"] == watch]


def set_breakpoints(adapter, arguments: dict) -> dict:
    return adapter.breakpoints.set_lines(arguments)


def set_exception_breakpoints(adapter, arguments: dict) -> dict:
    return adapter.breakpoints.set_filters(arguments)


def data_breakpoint_info(adapter, arguments: dict) -> dict:
    return adapter.breakpoints.data_info(arguments)


def set_data_breakpoints(adapter, arguments: dict) -> dict:
    return adapter.breakpoints.set_data(arguments)
