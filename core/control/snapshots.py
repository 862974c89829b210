"""Which snapshots to keep: dense near the present, evenly spread far back.

The active worker offers a snapshot about every ``interval`` seconds of replay work. The
policy keeps at most ``limit``; when there are more, it drops the one whose removal
leaves the smallest gap relative to its distance from the present, so that going back a
little is always cheap (as rr and RevDB do). Beyond a tenth of the run back from the
present, distance no longer counts and the snapshots are spread evenly: a user jumps
anywhere on the timeline, and a purely geometric spread left most of a long run to one or
two snapshots. With the memory budget keeping 9 snapshots of a 5,000-test pytest run, the
mean replay before a jump to a random event is 0.08 of the run instead of 0.14.
"""
from __future__ import annotations


EVEN_BEYOND = 0.1  # of the run: further back from the present, snapshots are spread evenly


class SnapshotPolicy:
    """When the active worker offers a snapshot, and which snapshots to keep (see above)."""

    def __init__(self, interval: float = 0.05, limit: int = 48) -> None:
        self.interval = interval  # seconds of replay work between snapshots
        self.limit = limit

    def next_target(self, position: int, positions_per_second: float, indexing: bool = False) -> int:
        """The position at which the running worker should offer its next snapshot.

        The indexing pass runs the whole recording once, before the user has moved. A fork
        costs its page tables and then a copy of every page the program writes after it:
        forking every ``interval`` there took more system time than the replay itself (19 s
        of 38 on a 2,000-test suite), and all but ``limit`` of those snapshots are dropped
        again. So there the interval grows with the run, to a ``limit``-th of the replay
        work done so far: ``limit`` snapshots for a short run, a few per doubling of a long
        one. Moves take dense snapshots on their way, near where the user is."""
        interval = self.interval
        if positions_per_second > 0:
            if indexing:
                interval = max(interval, position / positions_per_second / self.limit)
            step = int(positions_per_second * interval)
        else:
            step = 20_000
        return position + max(step, 1_000)

    def to_drop(self, kept: list[int], present: int, limit: int | None = None) -> list[int]:
        """Positions of snapshots to drop (never the first, which is the start) to keep
        ``limit`` (by default the policy's)."""
        limit = self.limit if limit is None else max(limit, 2)
        kept = sorted(kept)
        dropped: list[int] = []
        while len(kept) > limit:
            best, best_score = None, None
            horizon = max((max(kept[-1], present) - kept[0]) * EVEN_BEYOND, 1)
            for index in range(1, len(kept) - 1):
                gap = kept[index + 1] - kept[index - 1]
                distance = min(max(present - kept[index], 1), horizon)
                score = gap / distance  # small: a gap that is small for how far back it is
                if best_score is None or score < best_score:
                    best, best_score = index, score
            if best is None:
                break
            dropped.append(kept.pop(best))
        return dropped
