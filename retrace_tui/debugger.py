"""What the TUI shows, computed from the engine: one `View` per stop.

The app is a thin layer over this: it sends a verb ("next", "back", "goto_event", ...)
and draws the View it gets back. Everything here is synchronous and UI-free, so it is
tested without a terminal; the app runs it off its event loop.
"""
from __future__ import annotations

import bisect
import linecache
import os
from dataclasses import dataclass, field

from retrace_core.control.session import EngineError, Session, Stop
from retrace_core.control.stops import NotIndexed
from retrace_core.replay.sources import kit_sources
from retrace_core.tape import summary
from retrace_core.tape.process_tree import failing_process
from retrace_core.tape.recording import Recording
from retrace_tui import state
from retrace_tui.user_steps import UserSteps

# Verbs the app may send, and how the status line names their result.
VERBS = {"next": "next", "back": "back", "step_into": "step", "back_into": "step back",
         "finish": "finish", "back_finish": "back out", "continue_": "continue",
         "reverse_continue": "reverse-continue", "goto_failure": "failure", "goto_event": "event",
         "goto": "go to", "goto_run": "logpoint run"}


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline: a boundary event, or a marker (category "test")."""

    number: int
    position: int
    thread: int
    category: str  # clock, random, file, socket, process, output, thread, test or other
    call: str
    result: str
    outcome: str | None = None  # a test's: passed, failed, skipped, interrupted
    end: int | None = None  # a test's last position: the timeline draws tests as ranges


@dataclass
class View:
    """Everything the screen shows at one stop."""

    position: int
    end: int
    event: int
    events: int
    thread: int
    pid: int
    finished: bool
    reason: str
    message: str
    frames: list[dict] = field(default_factory=list)
    frame_index: int = 0
    source_file: str | None = None
    source_text: str | None = None
    current_line: int | None = None
    output: list[tuple[int, str]] = field(default_factory=list)  # (fd, text) in the order written
    processes: int = 1  # in the recording
    threads: list[dict] = field(default_factory=list)  # the program's threads: thread, name, file, line
    shown_thread: int = 0  # whose stack the frames are (the stopped thread unless switched)
    stack_rows: list[tuple[int, int, bool]] = field(default_factory=list)  # UserSteps.fold of the frames
    returned: dict | None = None  # after n/f over a call: function, repr, type of what it returned
    indexed: bool = True  # False: a first look's (opening.py), whose positions count from the failing test


    @property
    def locals(self) -> list[dict]:
        return self.frames[self.frame_index].get("locals", []) if self.frames else []


def processes(recording: str) -> list[dict]:
    """The recorded processes as a tree, root first (see `Recording.processes`)."""
    with Recording(recording) as opened:
        return opened.processes()


def process_to_open(recording: str, pid: int | None) -> int | None:
    """The process to open: the one asked for, the only one, or the one in which the
    first failed test ran (the debugger opens at that failure). None: ask."""
    if pid is not None:
        return pid
    recorded = processes(recording)
    if len(recorded) == 1:
        return recorded[0]["pid"]
    return failing_process(recorded)


class Debugger:
    """The TUI's view of a :class:`Session`: moves that skip library code when "just my
    code" is on, the stack folded, the timeline's entries, breakpoints and bookmarks kept
    for saving; what a screen needs, with no Textual in it, so tests can drive it."""

    def __init__(self, recording: str, pid: int | None = None, on_progress=None, all_code: bool = False,
                 session: Session | None = None) -> None:
        """``all_code``: start with "just my code" off (steps stop in library code too).
        ``session``: one opened already (a first look's, not indexed), instead of a new one."""
        self.session = session or Session(recording, pid, on_progress=on_progress)
        self.pid = self.session.pid
        self.process_count = len(processes(recording))
        with Recording(recording) as opened:
            self._recorded_sources = {path: source for path, (_m, source) in
                                      kit_sources(opened, self.pid).items()}
        self.user_steps = UserSteps(self.session, self._recorded_sources, enabled=not all_code)
        # What the last session on this recording left: breakpoints and bookmarks come back.
        self._state_path = state.state_path(recording, self.pid)
        self.saved = state.load(self._state_path)
        self.session.breakpoints = [(file, line, condition) for file, line, condition in self.saved.breakpoints]
        # A saved watch needs a running call of its function: it is set again at the first
        # stop with that function on the stack (see _rearm).
        self.waiting_watches = [saved for saved in self.saved.watches if saved["function"]]
        self._armed: dict[int, dict] = {}  # a watch's id: its saved entry
        self.entries = self._timeline_entries()
        self.frames: list[dict] = []  # the last view's (a watch is saved with its frame's function)
        self.frame_index = 0
        self.shown_thread: int | None = None  # None: the thread that stopped
        self.shown_threads: list[dict] = []  # the threads of the last view
        self.failure_index: int | None = None

    # -- the timeline ------------------------------------------------------------

    def _timeline_entries(self) -> list[TimelineEntry]:
        positions = self.session.index.event_positions
        entries = []
        for event in self.session.tape.events:
            if event.number > len(positions):
                break  # after a divergence: events the replay never reached
            entries.append(TimelineEntry(number=event.number, position=positions[event.number - 1],
                                         thread=event.thread, category=summary.category(event),
                                         call=summary.describe_call(event),
                                         result=summary.describe_result(event, 40)))
        # Tests (pytest markers) start where their first line runs; a test entry carries
        # the number of the last event before it.
        for test in self.session.index.tests:
            before = bisect.bisect_right(positions, test.start)
            failure = test.failure or {}
            result = test.outcome + (f": {failure.get('type')}: {failure.get('message', '')}" if failure else "")
            entries.append(TimelineEntry(number=before, position=test.start + 1, thread=0, category="test",
                                         call=test.nodeid, result=result, outcome=test.outcome,
                                         end=max(test.end, test.start + 1)))
        entries.sort(key=lambda entry: (entry.position, entry.category != "test", entry.number))
        return entries

    def jump(self, entry: TimelineEntry) -> View:
        """Go to a timeline entry: an event where it happened, a test at its first line."""
        if entry.category == "test":
            return self.move("goto", entry.position)
        return self.move("goto_event", entry.number)

    # -- moving --------------------------------------------------------------------

    def move(self, verb: str, *arguments) -> View:
        """Run one verb of the session and describe where it left us."""
        if verb not in VERBS:
            raise ValueError(f"unknown verb {verb!r}")
        before = self.session.stop
        stop = getattr(self.session, verb)(*arguments)
        stop, skipped = self.user_steps.past_library(verb, stop)
        self.frame_index, self.shown_thread = 0, None
        message = self._message(verb, before, stop, arguments) + ("; library code skipped" if skipped else "")
        note = self.session.take_note()  # why the move was slow, when threads made it so
        view = self.view(f"{message}; slow: {note}" if note else message)
        rearmed = self._rearm(view)
        if rearmed:
            view.message = f"{view.message}; {rearmed}"
        return view

    def _message(self, verb: str, before: Stop | None, stop: Stop, arguments: tuple = ()) -> str:
        name = VERBS[verb]
        if stop.finished and stop.reason == "diverged":
            known = self.session.index.divergence if self.session.index is not None else None
            where = f" at event {known['event']}" if known and known.get("event") else ""
            return f"{name}: the replay diverged{where}; the run is replayable up to here"
        if stop.finished:
            return f"{name}: end of recording"
        if stop.reason == "look-start":
            return f"{name}: back to the failing test's start; earlier once the run is indexed"
        if verb == "goto_failure":
            failures = self.session.index.failures()
            which = (arguments[0] if arguments else 0) % len(failures)
            failure = failures[which]
            counted = f" ({which + 1} of {len(failures)})" if len(failures) > 1 else ""
            test = f" (in {failure['nodeid'].rpartition('::')[2]})" if failure.get("nodeid") else ""
            return f"failure{counted}: {failure['type']}: {failure['message']}{test}"
        if before is not None and stop.position == before.position and not before.finished:
            return f"{name}: no earlier stop, start of recording" if stop.position <= 1 else f"{name}: stayed"
        if verb == "goto":
            return f"at position {stop.position}"
        if verb == "goto_run":
            return f"logpoint run at {os.path.basename(stop.file or '?')}:{stop.line} (position {stop.position})"
        if verb == "goto_event":
            number = arguments[0] if arguments else None
            positions = self.session.index.event_positions
            if number is not None and 1 <= number <= len(positions) and positions[number - 1] < 1:
                # Made while Python started, before any line of the program: there is no
                # line to stand on before it, so ▶ marks the next event still to come.
                return f"event {number} was made before the program's first line: at that line (▶ the next event)"
            return f"event {number}" if number is not None else "event"
        if stop.position <= 1:
            return f"{name}: start of recording"
        if stop.reason == "watch" and stop.watch:
            change = stop.watch
            if change.get("ended"):
                return f"watch {change.get('expression')}: its call has ended, the watch is deleted"
            where = f"{os.path.basename(stop.file or '?')}:{change.get('line', stop.line)}"
            return f"watch {change['expression']}: {change.get('old')} → {change.get('new')} at {where}"
        if stop.reason == "breakpoint" or (verb in ("continue_", "reverse_continue") and stop.file):
            return f"breakpoint at {os.path.basename(stop.file or '?')}:{stop.line}"
        if before is None:
            return name
        moved = stop.position - before.position
        lines = f"{abs(moved)} line{'s' if abs(moved) != 1 else ''} {'earlier' if moved < 0 else 'later'}"
        return f"{name}: {os.path.basename(stop.file or '?')}:{stop.line} ({lines})"

    def neighbour_event(self, position: int, step: int) -> int | None:
        """The number of the first event after ``position`` (step 1) or the last before
        it (step -1), or None at either end."""
        positions = self.session.index.event_positions
        if step > 0:
            index = bisect.bisect_right(positions, position)
            return index + 1 if index < len(positions) else None
        index = bisect.bisect_left(positions, position)
        return index if index >= 1 else None

    def failure(self, step: int) -> View:
        """The next (step 1) or previous (-1) failure, cycling; the first on step 0."""
        failures = self.session.index.failures()
        self.failure_index = 0 if step == 0 or self.failure_index is None else \
            (self.failure_index + step) % max(len(failures), 1)
        return self.failure_at(self.failure_index)

    def failure_at(self, which: int) -> View:
        self.failure_index = which
        return self.move("goto_failure", which)

    def toggle_just_my_code(self) -> View:
        """Just my code on or off: library frames folded, steps past library code."""
        steps = self.user_steps
        steps.enabled = not steps.enabled
        return self.view("just my code: on (library frames folded, steps skip library code)" if steps.enabled
                         else "just my code: off (every frame shown, steps stop in library code)")

    def select_frame(self, index: int) -> View:
        self.frame_index = index
        return self.view("")

    def switch_thread(self, step: int = 1) -> View:
        """Show the next (step 1) or previous (-1) thread's stack, cycling through those
        that stand in program code; stepping still follows the thread that stopped."""
        threads = [t for t in self.shown_threads if t.get("file") or t.get("current")]
        if len(threads) < 2:
            return self.view("no other thread stands in program code here")
        numbers = [t["thread"] for t in threads]
        shown = self.shown_thread if self.shown_thread in numbers else self.session.stop.thread
        at = numbers.index(shown) if shown in numbers else 0
        chosen = threads[(at + step) % len(threads)]
        self.shown_thread, self.frame_index = chosen["thread"], 0
        name = f" ({chosen['name']})" if chosen.get("name") else ""
        return self.view(f"showing thread {chosen['thread']}{name}")

    # -- describing -------------------------------------------------------------------

    def view(self, message: str = "") -> View:
        session, stop = self.session, self.session.stop
        state = session.state(self.frame_index, self.shown_thread) if not stop.finished else {"frames": []}
        frames = state["frames"]
        indexed = session.indexed
        view = View(position=stop.position, end=session.index.end if indexed else None,
                    event=session.event_at(stop.position, stop.finished) if indexed else state.get("event", stop.event),
                    events=len(session.index.event_positions if indexed else session.tape.events),
                    indexed=indexed, thread=stop.thread, pid=self.pid,
                    finished=stop.finished, reason=stop.reason, message=message, frames=frames,
                    frame_index=min(self.frame_index, max(len(frames) - 1, 0)), processes=self.process_count,
                    threads=state.get("threads", []), shown_thread=state.get("shown_thread", stop.thread))
        self.shown_threads, self.frames = view.threads, frames
        view.stack_rows = self.user_steps.fold(frames, view.frame_index)
        view.returned = state.get("return_value") if self.frame_index == 0 else None
        if frames:
            frame = frames[view.frame_index]
            view.source_file, view.current_line = frame["file"], frame["line"]
            view.source_text = self.source(frame["file"])
        written = session.output_until(stop.position) if indexed else \
            filter(None, (event.written_output() for event in session.tape.events[:stop.event]))
        view.output = [(fd, data.decode(errors="replace")) for fd, data in written]
        return view

    def source(self, file: str) -> str | None:
        """The file as recorded when the recording has it, else as it is on this disk."""
        recorded = self._recorded_sources.get(file)
        if recorded is not None:
            return recorded.decode(errors="replace") if isinstance(recorded, bytes) else recorded
        lines = linecache.getlines(file)
        return "".join(lines) if lines else None

    def expand(self, path: list[str]) -> list[dict]:
        return self.session.expand(path, self.frame_index, self.shown_thread)

    def full_repr(self, path: list[str]) -> str:
        return self.session.full_repr(path, self.frame_index, self.shown_thread)

    def evaluate(self, expression: str) -> dict:
        return self.session.evaluate(expression, self.frame_index, self.shown_thread)

    # -- breakpoints ---------------------------------------------------------------------

    def breakpoint_lines(self, file: str | None) -> set[int]:
        return {line for path, line, _condition in self.session.breakpoints if path == file}

    def toggle_breakpoint(self, file: str, line: int, condition: str | None = None) -> str:
        if line in self.breakpoint_lines(file) and condition is None:
            self.session.clear_breakpoint(file, line)
            self._save()
            return f"breakpoint cleared at {os.path.basename(file)}:{line}"
        self.session.clear_breakpoint(file, line)
        self.session.breakpoints.append((file, line, condition))
        self._save()
        where = f"{os.path.basename(file)}:{line}"
        return f"breakpoint at {where} if {condition}" if condition else f"breakpoint set at {where}"

    # -- bookmarks and what is remembered ----------------------------------------------------

    @property
    def bookmarks(self) -> list[dict]:
        """{"name", "position"}, in the order they were made."""
        return self.saved.bookmarks

    def add_bookmark(self, position: int, name: str | None = None) -> str:
        """Mark ``position`` (named by the line there unless ``name`` is given); a mark of
        the same name is replaced."""
        if not self.session.indexed:
            raise NotIndexed("bookmark: the run is still being indexed")
        if not name:
            stop = self.session.stop
            name = f"{os.path.basename(stop.file)}:{stop.line}" if stop.file and stop.position == position \
                else f"position {position}"
        self.saved.bookmarks = [mark for mark in self.saved.bookmarks if mark["name"] != name]
        self.saved.bookmarks.append({"name": name, "position": position})
        self._save()
        return f"bookmark {name!r} at position {position} (' lists the bookmarks)"

    # -- questions about values (the engine's watches.py) -------------------------------------

    def watch(self, expression: str) -> str:
        """Watch ``expression`` (``rate`` or ``rate if rate > 0.3``) in the selected frame;
        it is saved with that frame's function, to be set again in a later session."""
        expression, _, condition = expression.partition(" if ")
        expression, condition = expression.strip(), condition.strip() or None
        watch_id = self.session.watch(expression, self.frame_index, condition)
        frame = self.frames[self.frame_index] if self.frame_index < len(self.frames) else {}
        saved = {"expression": expression, "condition": condition, "file": frame.get("file"),
                 "function": frame.get("function")}
        self._forget(saved)
        self.saved.watches.append(saved)
        self._armed[watch_id] = saved
        self._save()
        return f"watch {watch_id}: {expression} (c and C stop where it changes; W lists the watches)"

    def _forget(self, saved: dict) -> None:
        """Drop the saved watch of ``saved``'s expression in its function (and the older
        format's bare expression), set or waiting."""
        self.saved.watches = [other for other in self.saved.watches if not state.same_watch(saved, other)]
        self.waiting_watches = [other for other in self.waiting_watches if not state.same_watch(saved, other)]

    def _rearm(self, view: View) -> str | None:
        """Set the saved watches waiting for a call of their function when it is on this
        stop's stack (its innermost call); what the status line says of it."""
        said = []
        for saved in list(self.waiting_watches) if not view.finished and self.session.indexed else []:
            at = next((index for index, frame in enumerate(view.frames)
                       if (frame["file"], frame["function"]) == (saved["file"], saved["function"])), None)
            if at is None:
                continue
            self.waiting_watches.remove(saved)
            try:
                watch_id = self.session.watch(saved["expression"], at, saved["condition"])
            except EngineError as error:
                said.append(f"watch {saved['expression']} from the last session not set: {error}")
                continue
            self._armed[watch_id] = saved
            said.append(f"watch {watch_id}: {saved['expression']} set again in {saved['function']}() "
                        "(from the last session)")
        return "; ".join(said) or None

    def watches(self) -> list[dict]:
        """The watches set (id, expression, condition), then the saved ones still waiting
        for a call of their function (a negative id, and ``waits``: the function)."""
        watches = [{"id": watch_id, "expression": entry["expression"], "condition": entry.get("condition")}
                   for watch_id, entry in self.session.watchlist.watches.items()]
        return watches + [{"id": -number, "expression": saved["expression"], "condition": saved["condition"],
                           "waits": saved["function"]} for number, saved in enumerate(self.waiting_watches, 1)]

    def unwatch(self, watch_id: int) -> str:
        """Delete a watch (or, by its negative id, a saved one still waiting): it is no
        longer remembered either."""
        if watch_id < 0:
            saved = self.waiting_watches[-watch_id - 1]
            self._forget(saved)
            self._save()
            return f"watch {saved['expression']} in {saved['function']}() deleted"
        self.session.unwatch(watch_id)
        saved = self._armed.pop(watch_id, None)
        if saved is not None:
            self._forget(saved)
            self._save()
        return f"watch {watch_id} deleted"

    def history(self, expression: str) -> list[dict]:
        return self.session.history(expression, self.frame_index)

    def origin(self, expression: str) -> dict:
        return self.session.origin(expression, self.frame_index)

    def logpoint(self, file: str, line: int, expression: str) -> list[dict]:
        hits = self.session.logpoint(file, line, expression)
        if [file, line, expression] not in self.saved.logpoints:
            self.saved.logpoints.append([file, line, expression])
            self._save()
        return hits

    def _save(self) -> None:
        self.saved.breakpoints = [[file, line, condition] for file, line, condition in self.session.breakpoints]
        state.save(self._state_path, self.saved)

    def close(self) -> None:
        self.session.close()
