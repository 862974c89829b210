"""Opening a recording in the TUI: the indexed `Debugger`, started on a thread of its own
before the UI is even imported, and beside it a first look at the failure
(core/control/first_look.py): a debugger of its own, shown first, whose moves stay within
the failing test, until the indexed one takes over where the user stands."""
from __future__ import annotations

import threading

from retrace_core.control.first_look import open_at_failure, position_in_run
from retrace_tui.debugger import Debugger, View


def first_look(recording: str, pid: int | None, all_code: bool = False) -> tuple[Debugger, View] | None:
    """A debugger over a first look at the first failed test's failing line, before the run
    is indexed (core/control/first_look.py), and its screen there; None when the tape names
    no such failure. Its moves stay within what the first look replayed."""
    opened = open_at_failure(recording, pid)
    if opened is None:
        return None
    session, _stop, failure = opened
    try:
        debugger = Debugger(recording, pid, all_code=all_code, session=session)
        return debugger, debugger.view(f"failure: {failure['type']}: {failure['message']} "
                                       f"(in {failure['nodeid'].rpartition('::')[2]})")
    except BaseException:
        session.close()
        raise


def hand_over(looked: Debugger, indexed: Debugger) -> View:
    """The indexed debugger takes over from a first look: at the same moment of the run when
    the line there is the same (positions count alike), else at the failure."""
    stop, breakpoints = looked.session.stop, looked.session.breakpoints
    looked.session.close()
    indexed.session.breakpoints = breakpoints  # as the user left them in the first look
    if stop.reason == "failure":  # the user has not moved: the failure, as a debugger opens at it
        return indexed.failure(0)
    if stop.finished:
        return indexed.move("goto", indexed.session.index.end)
    position = position_in_run(looked.session, stop.position, indexed.session.index)
    if position is not None:
        view = indexed.move("goto", position)
        if (view.source_file, view.current_line) == (stop.file, stop.line) and indexed.session.stop.depth == stop.depth:
            view.message = "the run is indexed: every move works now"
            return view
    view = indexed.failure(0)  # other threads ran lines in the test: the first look counted them not
    view.message = f"the run is indexed; {view.message} (the first look's place could not be found again)"
    return view


class Opening:
    """A Debugger opened on a thread of its own: `retrace-tui REC` starts it before the UI
    is even imported, so the indexing pass and the UI's start-up overlap. Beside it, a
    first look at the failure (`first_look`): ``preview`` is its screen, ready long
    before the index when a test failed, and shown until the debugger can move."""

    def __init__(self, recording: str, pid: int | None, all_code: bool = False) -> None:
        self.recording, self.pid, self.all_code = recording, pid, all_code
        self.progress = (0, 0)  # (events done, events in all), as the indexing pass goes
        self.preview: View | None = None
        self.preview_debugger: Debugger | None = None  # the first look's, until the indexed debugger takes over
        self._lock = threading.Lock()
        self._debugger: Debugger | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._closed = False  # by the app, which is gone (see close)
        threading.Thread(target=self._open, name="retrace-opening", daemon=True).start()
        threading.Thread(target=self._look, name="retrace-first-look", daemon=True).start()

    def _look(self) -> None:
        try:
            looked = first_look(self.recording, self.pid, self.all_code)
        except Exception:  # the indexed session says what went wrong, if anything did
            return
        if looked is None:
            return
        with self._lock:
            # Once the debugger is there, it shows the failure itself; once the app has gone,
            # nobody will.
            if not self._done.is_set() and not self._closed:
                self.preview_debugger, self.preview = looked
                return
        looked[0].session.close()

    def close_preview(self) -> None:
        """The app quits before the index is done: end the first look's processes."""
        with self._lock:
            debugger, self.preview_debugger = self.preview_debugger, None
        if debugger is not None:
            debugger.session.close()

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
                closed = self._closed
        if closed and self._debugger is not None:  # the app has gone meanwhile: nobody takes it
            self._debugger.close()

    def close(self) -> None:
        """The app has gone: end the first look's processes, and the indexed debugger's once
        it is open (the app may never have taken it: it quit while the run was indexed)."""
        with self._lock:  # first: a first look that ends from now on closes itself
            self._closed = True
            debugger = self._debugger if self._done.is_set() else None
        self.close_preview()
        if debugger is not None:
            debugger.close()

    def _progressed(self, done: int, total: int) -> None:
        self.progress = (done, total)

    def then(self, done, failed) -> None:
        """``done(debugger)`` or ``failed(error)`` from a thread of its own once the debugger
        is open (the app's engine thread answers the first look meanwhile)."""

        def wait() -> None:
            try:
                debugger = self.wait()
            except BaseException as error:
                failed(error)
            else:
                done(debugger)

        threading.Thread(target=wait, name="retrace-open-wait", daemon=True).start()

    def wait(self) -> Debugger:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._debugger
