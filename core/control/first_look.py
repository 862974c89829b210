"""The failure before the index: a failed test's failing line, found in about the time of a
plain replay.

The indexing pass traces the whole run (on CPython 3.11 any trace function makes every
instruction take the slow path: 3 to 4 times a plain run) before any position is known.
Yet the tape alone names the first failed test, how many events had happened when it
began and when its failing phase ended (the pytest plugin's markers), and the frames its
exception went through. So a worker replays untraced, at the speed of a plain replay, up
to the event before the test began, and traces only from there: it counts lines from
`BASE` (a position no run reaches from its start, so no snapshot of the start can be
mistaken for one taken in the test), remembers the last run of the failing line before
the event that followed the failure, and a second run from the snapshot taken where
tracing began stops there.

What it gives is a stop without a position in the run: the event it stands at, the stack,
the locals. From there the session moves within what it replayed (`Session.begins`: the
snapshot where tracing began is the earliest it goes back to, kept whatever the policy
says): steps, next, finish, continue and their reverses, breakpoints; what needs the
index (events, failures, watches, logpoints) raises until a front end has indexed the
run, where `position_in_run` says where such a stop is.
"""
from __future__ import annotations

from dataclasses import dataclass

from retrace_core.control.messages import Breakpoint, Inspect, Inspected, Remember, Run
from retrace_core.control.run_index import tests_from_markers
from retrace_core.replay.runner import forked_lineage
from retrace_core.tape.recording import Recording

TYPE_CHECKING = False
if TYPE_CHECKING:
    from retrace_core.control.run_index import Index
    from retrace_core.control.session import Session, Stop

BASE = 1 << 48  # where counting starts at the test's first event
UNKNOWN_END = 1 << 62  # the run's end, for moves: beyond any position


@dataclass
class FailedTest:
    """The first failed test as the tape's markers tell it, counted in events."""

    nodeid: str
    began: int  # events consumed when it began
    failed: int  # events consumed when its failing phase ended
    failure: dict  # type, message, frames (innermost last)


def first_failed_test(markers: list[list]) -> FailedTest | None:
    """The first test that failed with an exception, from the tape's markers
    ([events consumed, kind, data]); None when none did."""
    for test in tests_from_markers(markers, 0):
        failure = test.failure
        if failure and failure.get("frames") and test.failed_at is not None:
            return FailedTest(test.nodeid, test.start, test.failed_at, failure)
    return None


def forked(session: Session) -> bool:
    """Whether the process was forked: its replay runs its parents' events first, and
    untraced runs and event numbers of its own tape cannot be told apart from theirs."""
    with Recording(session.recording) as opened:
        return len(forked_lineage(opened, session.pid)) > 1


def look_at_failure(session: Session) -> tuple[Stop, dict] | None:
    """Stop ``session``'s fresh worker (no indexing pass run) at the first failed test's
    failing line: the stop and the failure (type, message, file, line, nodeid). None
    when the tape names no such failure or the line did not run where it should: the
    caller indexes the run instead."""
    test = first_failed_test(session.tape.markers)
    if test is None or forked(session):
        return None
    where = session._request(Inspect("failure", path=test.failure["frames"]), (Inspected,)).value
    if where["file"] is None:
        return None  # no program frame in the traceback
    breakpoints = [Breakpoint(where["file"], where["line"])]
    untraced = [test.began, BASE] if test.began >= 1 else None
    found = session._run(Run(untraced_to=untraced, remember=Remember(breakpoints=True), breakpoints=breakpoints,
                             before_event=test.failed + 1))
    hit = session._last_reply_hit
    if hit is None or found.finished and found.event < test.failed:
        return None  # not found, or the replay ended (diverged) before the failure
    session.index.end = UNKNOWN_END
    session._worker_from_snapshot(hit)
    again = untraced if hit >= BASE > session.stop.position else None  # from the start: untraced again
    stop = session._run(Run(target=hit, untraced_to=again))
    if stop.position != hit:
        return None
    if hit >= BASE:  # counted from the test's start: moves go back to the snapshot taken there
        session.counted_from = test.began
        # (none where other threads ran: then going back waits for the index)
        session.begins = min((p for p in session.workers.snapshots if p > BASE), default=BASE + 1)
        session.workers.pinned.add(session.begins)
    stop.reason = "failure"
    failure = {"type": test.failure["type"], "message": test.failure["message"], **where, "nodeid": test.nodeid}
    return stop, failure


def open_at_failure(recording: str, pid: int | None) -> tuple[Session, Stop, dict] | None:
    """A session without the index, stopped by `look_at_failure` (the caller closes it),
    its stop and the failure; None when the tape names no failure to look at (the tape
    is read once, for the check and the session)."""
    from retrace_core.control.session import Session

    with Recording(recording) as opened:
        tape = opened.tape(pid)
    if first_failed_test(tape.markers) is None:
        return None
    session = Session(recording, pid, index=False, tape=tape)
    try:
        looked = look_at_failure(session)
    except BaseException:
        session.close()
        raise
    if looked is None:
        session.close()
        return None
    return (session, *looked)


def position_in_run(session: Session, position: int, index: Index) -> int | None:
    """Where a first look's ``position`` is in the whole run, once ``index`` (the indexing
    pass's) gives the position of the event counting began at; None when it does not (the
    indexing pass diverged before). Exact only where one thread ran lines in the test:
    the caller checks that the line is the same there."""
    began = session.counted_from
    if began is None or position < BASE:
        return position  # counted from the run's start
    if began > len(index.event_positions):
        return None
    return index.event_positions[began - 1] + (position - BASE)
