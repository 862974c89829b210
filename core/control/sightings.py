"""A logpoint over the whole run at about the speed of a plain replay.

Its line's runs are seen while the program runs untraced (untraced_runs.py; csrc/monitor.c
over sys.monitoring, csrc/tracer.c's trace function on 3.11): nothing counts positions. A
run is named ``hit["at"]`` = [the position its count starts from (the stretch's start, or
the last event before the run when that is later), its count since, the events consumed
before it]; it becomes a position only when someone asks (`position_of`, `goto_run`): a
traced run from there to that run of the line, at most one stretch between two events.
Runs found in order are found from the one before.

Where runs cannot be seen untraced (the Python reference tracer, a run where other threads
ran, a forked child's own tape, the stretch after the last event, a program that sets its
own trace function meanwhile on 3.11) that part of the run is traced as before and its runs
come with their positions.
"""
from __future__ import annotations

import bisect

from retrace_core.control import line_map
from retrace_core.control.messages import Breakpoint, Run, Watch
from retrace_core.control.workers import EngineError

# Positions of untraced replay (a few milliseconds) a sighting runs through rather than
# move from a snapshot to the next stretch where the line ran.
JOIN_GAP = 20_000
# A sighting costs about a plain replay (3.12+; about 2x on 3.11), tracing about 1.4-3.7x:
# where the sighting would run this much further than the traced run, trace.
SIGHT_SPAN = 1.5

TYPE_CHECKING = False
if TYPE_CHECKING:
    from retrace_core.control.session import Session, Stop


def runs_of_line(session: Session, file: str, line: int, expression: str, positions: bool = False) -> list[dict]:
    """``expression`` at every run of ``file``:``line``: dicts of position (None until
    asked for), line, event (the next to happen), value, and ``at`` (the run's name).
    ``positions``: every run's position now (a traced replay of every stretch it ran in)."""
    index = session.index
    if positions or not session.sights or index.line_map is None or not session.untraced or index.threaded:
        return [run for lo, hi in line_map.windows(session, [(file, line)])
                for run in _traced(session, file, line, expression, lo, hi)]
    found: list[dict] = []
    for first, last, start, hi in _joined(session, _event_ranges(index, index.stretches_running([(file, line)]))):
        end = index.event_positions[last] if last < len(index.event_positions) else None
        # A sighting runs on to the next event; the stretches may end well before it, at a
        # snapshot of the indexing pass, where a traced run can stop.
        sighted = end is not None and end - start <= SIGHT_SPAN * (hi - start)
        seen = _sighted(session, file, line, expression, start, last, end) if sighted else None
        found += _traced(session, file, line, expression, start, hi) if seen is None else seen
    return found


def _event_ranges(index, stretches: list[list[int]]) -> list[list[int]]:
    """[first, last, start, hi]: events consumed before a line ran, from ``first`` to
    ``last``, and the positions (start, hi] of the stretches, for [first, end) ranges of the line
    map's stretches (which snapshots of the indexing pass split further, so a stretch may
    begin after the event before it: `Index.stretch_span`). Joined where they touch."""
    def consumed(stretch: int) -> int:
        return stretch - bisect.bisect_right(index.stretch_breaks, [stretch, float("inf")])

    ranges: list[list[int]] = []
    for first, end in stretches:
        low, high = consumed(first), consumed(end - 1)
        if ranges and low <= ranges[-1][1] + 1:
            ranges[-1][1] = max(ranges[-1][1], high)
        else:
            ranges.append([low, high, index.stretch_span(first)[0], 0])
        ranges[-1][3] = index.stretch_span(end - 1)[1]
    return ranges


def _joined(session: Session, ranges: list[list[int]]) -> list[list[int]]:
    """Ranges run as one sighting where that costs no more than a move between them: no
    snapshot lies between (a move would replay the gap from the same place), or the gap is
    short. A line that runs in every other stretch costs one replay, not a move per run."""
    positions, snapshots = session.index.event_positions, sorted(session._snapshots)
    joined: list[list[int]] = []
    for first, last, start, hi in ranges:
        if joined and joined[-1][1] < len(positions):
            gap_from = positions[joined[-1][1]]
            between = bisect.bisect_right(snapshots, start) - bisect.bisect_right(snapshots, gap_from)
            if between == 0 or start - gap_from <= JOIN_GAP:
                joined[-1][1], joined[-1][3] = last, hi
                continue
        joined.append([first, last, start, hi])
    return joined


def _sighted(session: Session, file: str, line: int, expression: str, start: int, last: int,
             end: int) -> list[dict] | None:
    """The runs from ``start`` until event ``last`` + 1 is consumed (at ``end``), seen
    untraced; None when the worker could not see them so. A run is named by where its
    count starts (``start``, or the last event before it when that is later), the count,
    and the events consumed before it."""
    line_map.start_at(session, start)
    session._run(Run(target=end + 1, breakpoints=[Breakpoint(file, line)], untraced_to=[last + 1, end],
                     sight=expression, snapshots=False))
    seen = (session._last_watched or {}).get("sightings")
    if seen is None:
        return None
    positions = session.index.event_positions
    runs, counts = [], {}
    for events, run_line, value in seen:
        counts[events] = counts.get(events, 0) + 1
        base = max(start, positions[events - 1] if events else 0)
        runs.append({"position": None, "line": run_line, "event": min(events + 1, len(positions)),
                     "value": value, "file": file, "at": [base, counts[events], events]})
    return runs


def _traced(session: Session, file: str, line: int, expression: str, lo: int, hi: int) -> list[dict]:
    """The runs at positions in (lo, hi], traced: each with its position."""
    line_map.start_at(session, lo)
    # hi + 1: the window's last line is a line event like the others, logged before the stop
    session._run(Run(target=hi + 1 if hi < session.index.end else None, breakpoints=[Breakpoint(file, line)],
                     watch=Watch(0, [[0, expression, None, 0, None]], "log")))
    hits = (session._last_watched or {}).get("hits", [])
    return [{"position": position, "line": hit_line, "event": session.event_at(position), "value": value,
             "file": file, "at": None} for position, hit_line, value, _id in hits]


def goto_run(session: Session, run: dict) -> Stop:
    """Stop at a logpoint's run (one of `runs_of_line`'s dicts): found the first time,
    remembered in ``run["position"]``."""
    if run.get("position") is not None:
        return session.goto(run["position"])
    base, count, events = run["at"]
    index = session.index
    known = session.run_positions.setdefault((run["file"], run["line"], base), {})
    before = max((n for n in known if n < count), default=0)
    start = known[before] if before else base
    end = index.event_positions[events] if events < len(index.event_positions) else None
    line_map.start_at(session, start)
    stop = session._run(Run(target=end, breakpoints=[Breakpoint(run["file"], run["line"])],
                            skip_hits=count - before - 1))
    if stop.reason != "breakpoint" or stop.line != run["line"] or stop.position <= start:
        raise EngineError(f"the logpoint's run {count} after position {base} was not found again "
                          f"(the replay stopped at position {stop.position}: {stop.reason})")
    known[count] = run["position"] = stop.position
    return stop


def position_of(session: Session, run: dict) -> int:
    """A logpoint's run's position; the session stands where it stood."""
    if run.get("position") is None:
        here = None if session.stop is None or session.stop.finished else session.stop.position
        goto_run(session, run)
        if here is not None:
            session.goto(here)
    return run["position"]
