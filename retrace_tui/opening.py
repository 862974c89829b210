"""Opening a recording in the TUI: the indexed `Debugger`, started on a thread of its own
before the UI is even imported, and beside it a first look at the failure that the screen
shows until the debugger can move (core/control/first_look.py)."""
from __future__ import annotations

import linecache
import threading

from retrace_core.control.first_look import first_failed_test, look_at_failure
from retrace_core.control.session import Session
from retrace_core.replay.sources import kit_sources
from retrace_core.tape.recording import Recording
from retrace_tui.debugger import Debugger, View
from retrace_tui.user_steps import UserSteps


def first_look_view(recording: str, pid: int | None) -> tuple[View, Session] | None:
    """The screen at the first failed test's failing line before the run is indexed
    (core/control/first_look.py), and the session standing there (the caller closes it),
    or None when the tape names no such failure. No position is known there: the view's
    is None, and the session offers no moves, only looking (expand, full_repr)."""
    with Recording(recording) as opened:
        tape = opened.tape(pid)
        if first_failed_test(tape.markers) is None:
            return None
        sources = {path: source for path, (_m, source) in kit_sources(opened, pid).items()}
        process_count = len(opened.processes())
    session = Session(recording, pid, index=False, tape=tape)
    try:
        looked = look_at_failure(session)
        if looked is None:
            session.close()
            return None
        stop, failure = looked
        state = session.state()
    except BaseException:
        session.close()
        raise
    frames = state["frames"]
    view = View(position=None, end=None, event=state["event"], events=state["events"], thread=stop.thread,
                pid=session.pid, finished=False, reason="failure", message="", frames=frames,
                processes=process_count, threads=state.get("threads", []),
                shown_thread=state.get("shown_thread", stop.thread))
    view.stack_rows = UserSteps(session, sources).fold(frames, 0)
    written = (event.written_output() for event in session.tape.events[:stop.event])
    view.output = [(fd, data.decode(errors="replace")) for fd, data in filter(None, written)]
    if frames:
        view.source_file, view.current_line = frames[0]["file"], frames[0]["line"]
        recorded = sources.get(view.source_file)
        view.source_text = recorded.decode(errors="replace") if isinstance(recorded, bytes) else recorded
        if view.source_text is None:
            view.source_text = "".join(linecache.getlines(view.source_file)) or None
    view.message = f"failure: {failure['type']}: {failure['message']} (in {failure['nodeid'].rpartition('::')[2]})"
    return view, session


class Opening:
    """A Debugger opened on a thread of its own: `retrace-tui REC` starts it before the UI
    is even imported, so the indexing pass and the UI's start-up overlap. Beside it, a
    first look at the failure (`first_look_view`): ``preview`` is its screen, ready long
    before the index when a test failed, and shown until the debugger can move."""

    def __init__(self, recording: str, pid: int | None, all_code: bool = False) -> None:
        self.recording, self.pid, self.all_code = recording, pid, all_code
        self.progress = (0, 0)  # (events done, events in all), as the indexing pass goes
        self.preview: View | None = None
        self.preview_session: Session | None = None  # the first look's, for its values until the debugger is there
        self._lock = threading.Lock()
        self._debugger: Debugger | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        threading.Thread(target=self._open, name="retrace-opening", daemon=True).start()
        threading.Thread(target=self._look, name="retrace-first-look", daemon=True).start()

    def _look(self) -> None:
        try:
            looked = first_look_view(self.recording, self.pid)
        except Exception:  # the indexed session says what went wrong, if anything did
            return
        if looked is None:
            return
        with self._lock:
            if not self._done.is_set():  # once the debugger is there, it shows the failure itself
                self.preview, self.preview_session = looked
                return
        looked[1].close()

    def close_preview(self) -> None:
        """The debugger has taken over (or the app quits): end the first look's processes."""
        with self._lock:
            session, self.preview_session = self.preview_session, None
        if session is not None:
            session.close()

    def _open(self) -> None:
        try:
            self._debugger = Debugger(self.recording, self.pid, on_progress=self._progressed,
                                      all_code=self.all_code)
            self._debugger.session.on_progress = None  # later moves take snapshots too
        except BaseException as error:  # given to whoever waits
            self._error = error
        finally:
            with self._lock:
                self._done.set()

    def _progressed(self, done: int, total: int) -> None:
        self.progress = (done, total)

    def wait(self) -> Debugger:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._debugger


class FirstLookValues:
    """The first look's session, asked about values as a Debugger is (frame 0 of the
    thread that stopped: the preview offers no other)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def expand(self, path: list[str]) -> list[dict]:
        return self.session.expand(path)

    def full_repr(self, path: list[str]) -> str:
        return self.session.full_repr(path)
