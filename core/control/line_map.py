"""Moves that use the indexing pass's line map (csrc/linemap.c): in which stretch between
two events each line of program code ran.

A continue or reverse-continue to a breakpoint, or a logpoint, needs the tracer only where
the breakpoint's line ran: the stretches the map names, which a move reaches untraced
(`Index.untraced_stretch`). Elsewhere the program runs at the speed of a plain replay.
"""
from __future__ import annotations

from retrace_core.control.messages import Breakpoint, Remember, Run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from retrace_core.control.session import Session, Stop


def windows(session: Session, lines: list[tuple[str, int]]) -> list[list[int]]:
    """[lo, hi] spans of positions that hold every line event of these (file, line)s: a
    line event in (lo, hi]; adjacent stretches joined. The whole run when there is no line
    map or moves are all traced."""
    index = session.index
    if index.line_map is None or not session.untraced:
        return [[0, index.end]]
    found: list[list[int]] = []
    for first, end in index.stretches_running(lines):
        lo, hi = index.stretch_span(first)[0], _last_position(index, end - 1)
        if found and lo <= found[-1][1]:
            found[-1][1] = max(found[-1][1], hi)
        else:
            found.append([lo, hi])
    return found


def _last_position(index, stretch: int) -> int:
    """The last position a line of ``stretch`` can be at: where threads ran, a line may be
    told one stretch early, so the next stretch's too."""
    lo, hi = index.stretch_span(stretch)
    return index.stretch_span(stretch + 1)[1] if index.threads_between(lo, hi) else hi


def start_at(session: Session, position: int) -> None:
    """The active worker stopped at ``position``'s line event, or at the start for 0."""
    if position >= 1:
        session.goto(position)
    else:
        session._worker_from_snapshot(0)


def last_breakpoint_hit(session: Session, remember: Remember, breakpoints: list[Breakpoint],
                        end: int) -> int | None:
    """The last breakpoint hit at or before ``end`` (conditions hold): the stretches in
    which a breakpoint's line ran are scanned one at a time, newest first, so a line that
    runs all along costs one stretch, not the run."""
    index = session.index
    for first, stop in reversed(index.stretches_running([(point.file, point.line) for point in breakpoints])):
        for stretch in range(stop - 1, first - 1, -1):
            lo = index.stretch_span(stretch)[0]
            if lo >= end:
                continue
            start_at(session, lo)
            # Remembering comes before the target in the tracer: a hit at the target counts.
            session._run(Run(target=min(_last_position(index, stretch), end), remember=remember,
                             breakpoints=breakpoints))
            if session._last_reply_hit is not None:
                return session._last_reply_hit
    return None


def next_breakpoint_hit(session: Session, breakpoints: list[Breakpoint]) -> Stop:
    """``continue_`` to the next breakpoint hit (conditions hold), or to the end: traced
    only through the spans where a breakpoint's line ran, each reached untraced. A run to
    a span's end stops there; a hit on that very line is reported as a hit (engine.py)."""
    here = session.stop.position
    for lo, hi in windows(session, [(point.file, point.line) for point in breakpoints]):
        if hi <= here:
            continue
        if lo > here:
            start_at(session, lo)
        stop = session._run(Run(target=hi, breakpoints=breakpoints))
        if stop.reason == "breakpoint" or stop.finished:
            return stop
        here = stop.position
    if session.stop.position < session.index.end:
        session.goto(session.index.end)
    session._forward_to_end()
    return session.stop
