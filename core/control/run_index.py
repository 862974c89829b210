"""What the indexing pass learns of a run: its end, where each event happened, the tests
(from the pytest plugin's markers), the failures, and where threads kept snapshots out."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass
class TestRun:
    """One pytest test, from its markers: it ran from ``start`` (exclusive) to ``end``."""

    nodeid: str
    start: int
    end: int
    outcome: str
    failure: dict | None = None  # type, message, file, line (the innermost program frame)
    failed_at: int | None = None  # when the failing phase ended (before teardown, if that is not it)


@dataclass
class Index:
    """What the indexing pass learnt about the whole run: its end, exit status, the position
    of every event, the uncaught exception, a divergence, and the markers."""

    end: int = 0
    exit_status: int | None = None
    event_positions: list[int] = field(default_factory=list)
    uncaught: dict | None = None  # the uncaught exception: type, message, and file, line of the failure
    divergence: dict | None = None
    markers: list[list] = field(default_factory=list)  # [position, kind, data]
    tests: list[TestRun] = field(default_factory=list)
    # [from, to] positions where other threads ran, so no snapshot was taken (to: None = the end)
    threaded: list[list] = field(default_factory=list)
    # {file: {line: bytes of uint32 first, end, ...}}: ranges of stretches in which each line ran; a
    # stretch is the run between two events, or between an event and a snapshot of the
    # indexing pass (stretch_breaks); None: not known (csrc/linemap.c)
    line_map: dict | None = None
    # [stretch, position]: stretch number ``stretch`` began at the indexing pass's snapshot
    # at ``position``; every other stretch began at an event
    stretch_breaks: list[list[int]] = field(default_factory=list)
    # [position, depth]: no line between the previous entry's position (0 for the first)
    # and this one ran shallower than depth (any thread; csrc/tracer.c's shallowest)
    depth_floors: list[list[int]] = field(default_factory=list)

    def shallowest_between(self, start: int, end: int) -> int:
        """No line in (start, end] ran at a depth shallower than this (0 when not known)."""
        floors = self.depth_floors
        first = bisect.bisect_left(floors, [start + 1])  # the first entry whose span reaches past start
        shallowest = None
        for position, depth in floors[first:]:
            shallowest = depth if shallowest is None else min(shallowest, depth)
            if position >= end:
                return shallowest
        return 0  # past the last entry: not known

    def threads_between(self, start: int, end: int) -> list | None:
        """The stretch of threads that kept snapshots out of (start, end], if one did."""
        for stretch in self.threaded:
            to = self.end if stretch[1] is None else stretch[1]
            if stretch[0] < end and to > start:
                return stretch
        return None

    def untraced_stretch(self, start: int, target: int, lead: int = 0) -> list[int] | None:
        """For a run from ``start`` to ``target``: [event, position] of the last event
        ``lead`` positions or more before ``target`` (strictly: the target's line event
        comes before its line's events), which a worker may run to untraced and trace on
        from, or None when there is none after ``start`` or other threads ran in between
        (the tracer is per thread)."""
        events = bisect.bisect_left(self.event_positions, target - lead)
        if events == 0 or self.event_positions[events - 1] <= start or self.threads_between(start, target):
            return None
        return [events, self.event_positions[events - 1]]

    def stretches_running(self, lines: list[tuple[str, int]]) -> list[list[int]]:
        """[first, end) ranges of the stretches between events in which any of these
        (file, line) ran, ascending and joined where they touch."""
        ranges = sorted([found[i], found[i + 1]] for file, line in lines
                        for found in [_ranges(self.line_map.get(file, {}).get(line))] for i in range(0, len(found), 2))
        joined: list[list[int]] = []
        for first, end in ranges:
            if joined and first <= joined[-1][1]:
                joined[-1][1] = max(joined[-1][1], end)
            else:
                joined.append([first, end])
        return joined

    def stretch_span(self, stretch: int) -> tuple[int, int]:
        """(lo, hi): a line that ran in ``stretch`` is at a position in (lo, hi]. A line's
        stretch is the number of events consumed (and snapshot breaks passed) before its
        line event, and an event is consumed after the line event of its position."""
        return self._stretch_start(stretch), self._stretch_start(stretch + 1)

    def _stretch_start(self, stretch: int) -> int:
        """The position where ``stretch`` began: at a break, or at the event before it."""
        if stretch <= 0:
            return 0
        breaks = bisect.bisect_right(self.stretch_breaks, [stretch, float("inf")])  # breaks up to it
        if breaks and self.stretch_breaks[breaks - 1][0] == stretch:
            return self.stretch_breaks[breaks - 1][1]
        event = stretch - breaks  # the events before it, this one's included
        return self.event_positions[event - 1] if event <= len(self.event_positions) else self.end

    def diverged_at(self, divergence: dict) -> bool:
        """Whether the indexing pass found this divergence (the same event): a move that
        ends there is where the replayable run ends, not a new divergence."""
        return self.divergence is not None and self.divergence.get("event") == divergence.get("event")

    def event_at(self, position: int, finished: bool = False) -> int:
        """The event of this moment: the next to happen, from ``position``'s line on (a stop
        is at the start of its line, before the line's own events). At the end of the run,
        the last event."""
        positions = self.event_positions
        if finished:
            return len(positions)
        return min(bisect.bisect_left(positions, position) + 1, len(positions))

    def output_until(self, events: list, position: int) -> list[tuple[int, bytes]]:
        """(fd, bytes) the program had written to stdout/stderr by ``position``, of the
        tape's ``events``."""
        positions = self.event_positions
        written = []
        for event in events:
            # Before this line runs: the events of line ``position`` itself are still to come.
            if event.number > len(positions) or positions[event.number - 1] >= position:
                break
            output = event.written_output()
            if output is not None:
                written.append(output)
        return written

    def failures(self) -> list[dict]:
        """What `goto_failure` can go to, in the order of the run: each failed test (with
        its nodeid, start and end), then the uncaught exception the program died of."""
        found = [{**test.failure, "nodeid": test.nodeid, "start": test.start,
                  "end": test.failed_at if test.failed_at is not None else test.end}
                 for test in self.tests if test.failure and test.failure.get("file")]
        if self.uncaught and self.uncaught.get("file"):
            found.append({**self.uncaught, "nodeid": None, "start": 0, "end": self.end})
        return found


def tests_from_markers(markers: list[list], end: int) -> list[TestRun]:
    """The tests, in the order they ran. A test that never ended (pytest.exit, Ctrl-C, the
    program killed) is "interrupted" and lasts to the end of the run."""
    started: dict[str, int] = {}
    failed_at: dict[str, int] = {}
    tests = []
    for position, kind, data in markers:
        if kind == "test-start":
            started[data["nodeid"]] = position
        elif kind == "test-failed":
            failed_at.setdefault(data["nodeid"], position)
        elif kind == "test-end":
            tests.append(TestRun(data["nodeid"], started.pop(data["nodeid"], position), position,
                                 data.get("outcome", "passed"), data.get("failure"),
                                 failed_at.pop(data["nodeid"], None)))
    for nodeid, position in started.items():
        tests.append(TestRun(nodeid, position, end, "interrupted"))
    return sorted(tests, key=lambda test: test.start)


def _ranges(stored: bytes | list | None) -> Sequence[int]:
    """A line's stretch ranges, first and end of each, from either form the line map keeps
    (csrc/linemap.c, smaller_form): native uint32s, first and end of each range; or
    [first, bitmap], bit i saying the line ran in stretch first + i."""
    if not stored:
        return ()
    if isinstance(stored, bytes):
        return memoryview(stored).cast("I")
    first, bits = stored
    found: list[int] = []
    start = None  # the first stretch of the run of set bits being read
    for offset, byte in enumerate(bits):
        if byte == (0xFF if start is not None else 0):
            continue  # all of it inside a run, or all of it outside one
        for bit in range(8):
            ran = byte >> bit & 1
            if ran and start is None:
                start = first + offset * 8 + bit
            elif not ran and start is not None:
                found += (start, first + offset * 8 + bit)
                start = None
    if start is not None:
        found += (start, first + len(bits) * 8)
    return found
