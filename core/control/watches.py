"""The controller's side of watchpoints, value histories, logpoints and origins.

The worker does the evaluating (watching.py); this module decides which runs answer a
question. Forward (``continue_``): one run that stops after the line that changed a
watched value. Backward and history: runs that collect every change of the watched
call, from the newest snapshot before the current position; when that snapshot lies
inside the call, the next run starts from an older snapshot and ends at the first line
the newer run saw (its value is compared there, so no change between two runs is lost),
until a run sees the call begin or starts at the beginning of the recording.
"""
from __future__ import annotations

from retrace_core.control import line_map, sightings
from retrace_core.control.conditions import is_pure
from retrace_core.control.messages import Run, Watch
from retrace_core.control.watching import UNSET
from retrace_core.control.workers import EngineError

ORIGIN_MIN_TEXT = 3  # shorter value texts (0, 1, '') are in too many results to be evidence


class WatchList:
    """The watches of one session, and the runs that answer questions about values."""

    def __init__(self, session) -> None:
        self.session = session
        self.watches: dict[int, dict] = {}
        self._next_id = 1

    # -- the watches -------------------------------------------------------------------

    def add(self, expression: str, frame: int = 0, condition: str | None = None) -> int:
        entry = self._entry(expression, frame, condition)
        entry["id"] = self._next_id
        self._next_id += 1
        self.watches[entry["id"]] = entry
        return entry["id"]

    def remove(self, watch_id: int) -> None:
        if self.watches.pop(watch_id, None) is None:
            raise EngineError(f"no watch {watch_id}")

    def _entry(self, expression: str, frame: int, condition: str | None) -> dict:
        """A watch on ``expression`` in the stop's frame number ``frame`` (0: innermost)."""
        check_pure(expression, "watch")
        if condition:
            check_pure(condition, "watch condition")
        stop = self.session.stop
        if stop is None or stop.finished:
            raise EngineError("the program has ended: there is no frame to watch in")
        if not 0 <= frame < stop.depth:
            raise EngineError(f"no frame {frame} here (the stack has {stop.depth} program frames)")
        return {"expression": expression, "condition": condition or None, "thread": stop.thread,
                "depth": stop.depth - frame}

    def _message(self, mode: str, entries: list[dict]) -> Watch | None:
        thread = self.session.stop.thread
        chosen = [[e["id"], e["expression"], e["condition"], e["depth"], e.get("function")]
                  for e in entries if e["thread"] == thread]
        return Watch(thread, chosen, mode) if chosen else None

    # -- moves -------------------------------------------------------------------------

    def forward_watch(self) -> Watch | None:
        """The Watch part of a continue_ (None without watches in this thread)."""
        return self._message("stop", list(self.watches.values()))

    def after_forward(self, stop, watched: dict | None) -> None:
        """A continue_ stopped for a watch: say which and how; a watch whose call has
        ended is deleted (as gdb does), the stop says so."""
        found = (watched or {}).get("stop")
        if not found:
            return
        stop.watch = found
        if found.get("ended"):
            self.watches.pop(found["id"], None)
        else:
            stop.line = found["line"]

    def backward(self, entries: list[dict] | None = None, latest: bool = False) -> dict[int, list] | None:
        """The changes of each watch (by id) in its call up to the current position, in
        order, as [changed at, line, seen at, old, new, call]; None when no watch
        applies here (none set, or none of their calls is running). ``latest``: only the
        runs back to each watch's last change (a reverse-continue), not the whole call."""
        watch = self._message("collect", entries if entries is not None else list(self.watches.values()))
        if watch is None:
            return None
        session = self.session
        here = target = session.stop.position
        changes: dict[int, list] = {entry[0]: [] for entry in watch.entries}
        pending = {entry[0] for entry in watch.entries}
        start = target + 1
        newer: dict[int, tuple] = {}  # id -> (position, value) of the first line the newer runs saw
        steady: dict[int, list] = {}  # id -> where its stores ran, when only a store could change that value
        while pending:
            # Each run ends where the newer one began (at its snapshot), so no stretch is
            # replayed twice; the value the older run saw last is compared with the value
            # the newer one saw first, so no change between two runs is lost.
            start = max((p for p in session._snapshots if p < min(target, start)), default=0)
            watch.entries = [entry for entry in watch.entries if entry[0] in pending]
            if target != here and self._unchanged(watch.entries, start, target, steady):
                if start == 0:
                    break
                target = start
                continue
            session._worker_from_snapshot(start)
            session._run(Run(target=target, watch=watch))
            reports = {report["id"]: report for report in (session._last_watched or {}).get("entries", [])}
            for watch_id in list(pending):
                report = reports.get(watch_id)
                if report is None or (target == here and not report["live"]):
                    pending.discard(watch_id)  # not running here: nothing to tell
                    continue
                found = list(report["changes"])
                later = newer.get(watch_id)
                if later is not None and report["first"] is not None and report["value"] != later[1]:
                    seen_at, seen_line = report["seen"]
                    found.append([seen_at, seen_line, later[0], report["value"], later[1], report["calls"]])
                changes[watch_id][:0] = found
                if report["first"] is not None:
                    newer[watch_id] = (report["first"], report["first_value"])
                    file, lines = report["stores"] or (None, None)
                    steady.pop(watch_id, None)
                    if report["steady"]:
                        steady[watch_id] = line_map.windows(session, [(file, line) for line in lines])
                if report["began"] or start == 0 or (latest and changes[watch_id]):
                    pending.discard(watch_id)
            target = start
        return changes

    def _unchanged(self, entries: list, start: int, target: int, steady: dict[int, list]) -> bool:
        """Can no watch have changed in (start, target], so that the run there is not
        needed? Each stayed deeper than its frame all along (a callee's long work: no line
        of the watched call ran), or its call ran on (never shallower) holding a value only
        a store changes, and none of the lines that store it ran there (the line map)."""
        floor = self.session.index.shallowest_between(start, target)
        for entry in entries:
            watch_id, depth = entry[0], entry[3]
            if floor > depth:
                continue
            windows = steady.get(watch_id)
            if floor < depth or windows is None or any(lo < target and hi > start for lo, hi in windows):
                return False
        return True

    def history(self, expression: str, frame: int = 0, all_calls: bool = False) -> list[dict]:
        """Each change of ``expression``'s value in the frame's call (every call of its
        function with ``all_calls``), in order; the session stands where it stood."""
        session = self.session
        entry = {**self._entry(expression, frame, None), "id": 0}
        here = session.stop.position
        if all_calls:
            function = session.state(frame)["frames"][frame]
            entry["function"] = [function["file"], function["function"], None]
            session._worker_from_snapshot(0)
            session._run(Run(watch=self._message("collect", [entry]), snapshots=False))
            report = (session._last_watched or {"entries": [{"changes": []}]})["entries"][0]
            found = report["changes"]
        else:
            found = (self.backward([entry]) or {}).get(0, [])
        session.goto(here)
        return [{"position": seen, "line": line, "value": new, "old": old, "changed_at": changed_at, "call": call}
                for changed_at, line, seen, old, new, call in found]

    def logpoint(self, file: str, line: int, expression: str, positions: bool = False) -> list[dict]:
        """``expression`` at every time ``file``:``line`` ran in the whole recording, as
        a print added after the run would have shown it (see sightings.py); the session
        stands where it stood."""
        check_pure(expression, "logpoint")
        session = self.session
        here = None if session.stop is None or session.stop.finished else session.stop.position
        runs = sightings.runs_of_line(session, file, line, expression, positions)
        if here is not None:
            session.goto(here)
        return runs

    def origin(self, expression: str, frame: int = 0) -> dict:
        """Where the value of ``expression`` came from: the line of its call that last
        changed it (None when it has not changed in this call: an argument, a global),
        and the most recent boundary event before that line ran whose recorded result
        contains the value's text (see docs/api.md for the rule). The session stays."""
        session = self.session
        entry = {**self._entry(expression, frame, None), "id": 0}
        here = session.stop.position
        changes = (self.backward([entry]) or {}).get(0, [])
        session.goto(here)
        try:
            value = session.evaluate(expression, frame)["repr"]
        except EngineError:  # not set here (yet): the last value the call gave it, if any
            value = changes[-1][4] if changes else UNSET
        described = {"expression": expression, "value": value, "line": None, "position": None, "event": None}
        if changes:
            changed_at, line, _seen, _old, _new, _call = changes[-1]
            described.update(line=line, position=changed_at)
        before = described["position"] or here
        described["event"] = source_event(session, value, before)
        return described


def check_pure(expression: str, what: str) -> None:
    if not is_pure(expression):
        raise EngineError(f"a {what} must be an expression without side effects (names, attributes, items, "
                          f"operators, len() and the like): {expression!r}")


def source_event(session, value: str, before: int) -> dict | None:
    """The most recent boundary event whose result holds ``value`` and that happened
    before position ``before`` (the line that assigned the value included)."""
    texts = {value}
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        texts.add(value[1:-1])  # a string: its contents, as read from a file or socket
    texts = {text for text in texts if len(text) >= ORIGIN_MIN_TEXT and text != UNSET}
    if not texts:
        return None
    positions = session.index.event_positions
    for event in reversed(session.tape.events):
        if event.number > len(positions) or positions[event.number - 1] > before:
            continue
        if event.raised:
            continue
        result = event.value
        shown = result.decode("utf-8", "replace") if isinstance(result, (bytes, bytearray)) else str(result)
        if any(text in shown for text in texts):
            return {"event": event.number, "function": event.function, "position": positions[event.number - 1],
                    "result": shown[:200]}
    return None
