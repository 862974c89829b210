"""Which snapshots the policy keeps (control/snapshots.py): after the indexing pass of a long
run, a jump anywhere on the timeline must not start from one snapshot at the far start.
Before, the spread was geometric from the present: with the six a memory budget kept of a
5,000-test pytest run, the first half of the run had one snapshot, the start."""
from retrace_core.control.snapshots import SnapshotPolicy


def indexed(limit: int, end: int = 1_000_000) -> list[int]:
    """The snapshots kept once an indexing pass to ``end`` has offered them where it does."""
    policy, kept, position = SnapshotPolicy(limit=limit), [0], 0
    while position < end:
        position = policy.next_target(position, positions_per_second=end / 30, indexing=True)
        kept.append(position)
        for dropped in policy.to_drop(kept, present=position):
            kept.remove(dropped)
    return sorted(kept)


def test_a_long_run_keeps_snapshots_spread_over_all_of_it():
    for limit in (6, 9, 16):
        kept = indexed(limit)
        gaps = [later - earlier for earlier, later in zip(kept, kept[1:])]
        assert max(gaps) <= 2.5 * kept[-1] / (limit - 1), (limit, kept)

