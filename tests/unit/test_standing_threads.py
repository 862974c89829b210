"""Where another thread stands when a garbage collection is placed (boundary/collector.py).

A replayed thread waits for its turn right after taking its event, still inside the call.
So a recorded thread that has written its event and not yet left the call is where its
replay waits: the collection may be placed and the replay must not move that thread. One
at a call whose event is not written yet is moved on to that call by the replay. Before,
both read as "standing at a call", and the replay ran a thread that had written its event
on through the program's next lines, making garbage the recorded collection never saw
(a weakref.finalize test diverged one run in sixty on a loaded machine).

Each case stops a real thread inside a real recording wrapper writing to a real tape, at
one line, with a trace function, and asks the collector where it stands.
"""
import sys
import threading
import time

import pytest

from retrace_core.boundary import collector, wrappers
from retrace_core.tape.writer import TapeWriter


def _line_of(function, text: str) -> int:
    import inspect
    lines, first = inspect.getsourcelines(function)
    return first + next(number for number, line in enumerate(lines) if line.strip() == text)


WRAPPER_LINES = {
    "before the real call": "result = original(*args)",
    "after the real call, before its event": "tape.returned(ok, result)",
    "after its event": "return result",
}


def _stopped_at(tape, where):
    """A thread calling a recorded ``time.monotonic``, held at ``where`` until released;
    returns (its ident, release)."""
    recorded = wrappers.recording_function(time.monotonic, tape, "time.monotonic", False, leaf=True)
    reached, release = threading.Event(), threading.Event()

    def hold(frame, event, arg):
        code = frame.f_code
        if where == "in the writer" and event == "call" and code is TapeWriter.returned.__code__:
            reached.set()
            release.wait(10)
        elif event == "line" and code is recorded.__code__ and where in WRAPPER_LINES \
                and frame.f_lineno == _line_of(wrappers.recording_function, WRAPPER_LINES[where]):
            reached.set()
            release.wait(10)
        elif event == "line" and where == "program code" and code is program.__code__:
            reached.set()
            release.wait(10)
        return hold

    def program():
        recorded()
        return [[]]

    def run():
        sys.settrace(hold)
        program()
        sys.settrace(None)

    thread = threading.Thread(target=run)
    thread.start()
    assert reached.wait(10), where
    return thread, release


@pytest.mark.parametrize("where, standing", [
    ("before the real call", [1]),
    ("after the real call, before its event", [1]),
    ("after its event", []),
    ("in the writer", None),
    ("program code", None),
])
def test_where_another_thread_stands(tmp_path, where, standing):
    tape = TapeWriter(str(tmp_path / "1.bin"))
    thread, release = _stopped_at(tape, where)
    try:
        assert collector.standing_threads({thread.ident: 1}) == standing
    finally:
        release.set()
        thread.join()
        tape.close()
