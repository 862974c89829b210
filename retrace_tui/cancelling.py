"""A Session whose cancel (Esc) is not lost between the runs of a move.

`Session.cancel` kills the active worker, and the move's run that was waiting on it
raises `Cancelled`. A watch move is many short runs, each from a fork of a snapshot
(`watches.WatchList.backward`), and goto-like moves fork too: a kill that came between
two runs killed a worker that was about to be replaced, the flag it set was never read,
and the move went on to its end (seconds later, as if Esc had not been pressed); a
cancel while a fork was under way found no worker and did nothing. Here the cancel is
remembered until the move ends: every request the move makes after it raises
`Cancelled`, whatever the worker's state. (The engine's own fix belongs in
`Session._run`/`cancel`; this keeps the TUI right until then.)
"""
from __future__ import annotations

from retrace_core.control.messages import Message
from retrace_core.control.session import Cancelled, Session, WorkerDied


class CancellableSession(Session):
    """`Session` with a cancel that holds until the move it was asked for ends."""

    cancel_asked = False  # set from the UI's thread, read on the engine's

    def cancel(self) -> None:
        """From another thread, while a move runs: stop it (see the module's docstring)."""
        self.cancel_asked = True
        super().cancel()

    def end_cancel(self) -> None:
        """The move the cancel was for has ended (cancelled, or done before the cancel
        could act): the next one starts afresh."""
        self.cancel_asked = False
        self._cancelled = False  # Session's own flag, left set when its kill hit no run

    def _request(self, message: Message, expect: tuple[type[Message], ...]) -> Message:
        if self.cancel_asked:
            self.end_cancel()
            raise Cancelled("cancelled")
        try:
            return super()._request(message, expect)
        except WorkerDied:
            if not self.cancel_asked:
                raise  # a worker that died by itself: Session._run replaces it
            self.end_cancel()
            raise Cancelled("cancelled") from None
