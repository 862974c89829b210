"""Which snapshots to keep: the last before the present, and the others spread out.

The active worker offers a snapshot about every ``interval`` seconds of replay work. The
policy keeps at most ``limit`` (and the memory budget, snapshot_memory.py, often fewer);
when there are more, it drops the one whose removal leaves the smallest gap relative to
its distance from the present, so that going back a little stays cheap (as rr and RevDB
do). The start and the last snapshot at or before the present, from which a step back
replays, are never dropped. Distance counts only between a fortieth and a tenth of the
run: further away, snapshots are spread evenly, because a user jumps anywhere on the
timeline; nearer, a cluster buys nothing the last one before the present does not. A
purely geometric spread, with the budget keeping 4 to 9 snapshots of a 5,000-test pytest
run, left most of the run to the start and a few snapshots next to each other near the
present, and a jump to a random event replayed up to 13 s.
"""
from __future__ import annotations

# Of the run: further from the present, snapshots are spread evenly; nearer than a quarter of
# that, too (a cluster there bought nothing the last one before the present does not).
EVEN_BEYOND = 0.1


class SnapshotPolicy:
    """When the active worker offers a snapshot, and which snapshots to keep (see above)."""

    def __init__(self, interval: float = 0.05, limit: int = 48) -> None:
        self.interval = interval  # seconds of replay work between snapshots
        self.limit = limit
        self.end = 0  # the run's last position, once the indexing pass knows it

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
        """Positions of snapshots to drop to keep ``limit`` (by default the policy's): never
        the first, which is the start, nor the last at or before the present, from which a
        step back replays. A snapshot ahead of the present counts by its distance too: two
        around the present cost twice what one buys."""
        limit = self.limit if limit is None else max(limit, 2)
        kept = sorted(kept)
        anchor = max((p for p in kept if p <= present), default=None)
        dropped: list[int] = []
        while len(kept) > limit:
            best, best_score = None, None
            last = max(kept[-1], present, self.end)
            horizon = max((last - kept[0]) * EVEN_BEYOND, 10)
            near = horizon / 4
            for index in range(1, len(kept)):
                if kept[index] == anchor:
                    continue
                after = kept[index + 1] if index + 1 < len(kept) else last
                gap = after - kept[index - 1]
                distance = min(max(abs(present - kept[index]), near), horizon)
                score = gap / distance  # small: a gap that is small for how far it is from the present
                if best_score is None or score < best_score:
                    best, best_score = index, score
            if best is None:
                break
            dropped.append(kept.pop(best))
        return dropped
