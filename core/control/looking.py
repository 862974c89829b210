"""The Session's questions about where a run stands: the state (stack, locals, threads),
a local's children and whole repr, an expression, the output so far. A mixin of
:class:`~retrace_core.control.session.Session`; each question is answered by a
throw-away fork of the active worker (control/inspecting.py)."""
from __future__ import annotations

from retrace_core.control import assertions
from retrace_core.control.messages import Inspect, Inspected


class Looking:
    """Session methods that look at the stop without moving."""

    def state(self, frame: int = 0, thread: int | None = None) -> dict:
        """Where the run stands: position, event, and the stack (of ``thread``, by default
        the one that stopped) with one frame's locals; ``threads`` lists every thread of
        the program with where it stands. After next/finish over a call, ``return_value``;
        at a failing ``assert``, ``assertion``: its sides, also first among the locals."""
        stop = self.stop
        if self.indexed:
            described = {"position": stop.position, "end": self.index.end,
                         "event": self.event_at(stop.position, stop.finished), "events": len(self.index.event_positions)}
        else:  # first_look.py: no position is known; the event is the next to happen
            described = {"position": None, "end": None, "event": min(stop.event + 1, len(self.tape.events)),
                         "events": len(self.tape.events)}
        described.update({"thread": stop.thread, "reason": stop.reason, "finished": stop.finished,
                          "frames": [], "threads": []})
        if not stop.finished and self.worker is not None:
            reply = self._request(Inspect("state", frame, thread), (Inspected,))
            described["frames"], described["threads"] = list(reply.frames), list(reply.threads)
            described["shown_thread"] = stop.thread if thread is None else thread
            if stop.reason == "failure" and thread in (None, stop.thread) and described["frames"]:
                shown = described["frames"][frame]
                described["assertion"] = assertions.assertion_sides(self, shown, frame)
                shown["locals"] = [*described["assertion"], *shown.get("locals", [])]
        if stop.returned is not None:
            described["return_value"] = stop.returned  # next/finish over a call: what it returned
        return described

    def event_at(self, position: int, finished: bool = False) -> int:
        return self.index.event_at(position, finished)

    def expand(self, path: list[str], frame: int = 0, thread: int | None = None) -> list[dict]:
        return list(self._request(Inspect("expand", frame, thread, path), (Inspected,)).children)

    def full_repr(self, path: list[str], frame: int = 0, thread: int | None = None) -> str:
        """The whole repr of the local at ``path`` (the locals tree shows it shortened)."""
        return self._request(Inspect("repr", frame, thread, path), (Inspected,)).repr

    def evaluate(self, expression: str, frame: int = 0, thread: int | None = None) -> dict:
        return self._request(Inspect("evaluate", frame, thread, expression=expression), (Inspected,)).value

    def output_until(self, position: int) -> list[tuple[int, bytes]]:
        """(fd, bytes) the program had written to stdout/stderr by ``position``."""
        return self.index.output_until(self.tape.events, position)
