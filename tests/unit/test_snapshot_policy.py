"""Which snapshots the policy keeps (control/snapshots.py): after the indexing pass of a long
run, and after moves, a jump anywhere on the timeline must not start from a snapshot far
before it. Before, the spread was geometric from the present: with the four to nine a
memory budget kept of a 5,000-test pytest run, the first half of the run had one snapshot,
the start, and moves left clusters next to the present while the end lost all of its own
(a jump near the end replayed 12 s)."""
from retrace_core.control.snapshots import SnapshotPolicy

END = 1_000_000


def indexed(limit: int) -> tuple[SnapshotPolicy, list[int]]:
    """The snapshots kept once an indexing pass to END has offered them where it does."""
    policy, kept, position = SnapshotPolicy(limit=limit), [0], 0
    while position < END:
        position = min(END, policy.next_target(position, positions_per_second=END / 30, indexing=True))
        kept.append(position)
        for dropped in policy.to_drop(kept, present=position):
            kept.remove(dropped)
    policy.end = END
    return policy, sorted(kept)


def widest_gap(kept: list[int]) -> int:
    bounds = sorted(kept) + [END]
    return max(later - earlier for earlier, later in zip(bounds, bounds[1:]))


def test_a_long_run_keeps_snapshots_spread_over_all_of_it():
    for limit in (6, 9, 16):
        _policy, kept = indexed(limit)
        assert widest_gap(kept) <= 2.5 * END / limit, (limit, kept)


def test_moves_keep_the_spread_and_the_snapshot_a_step_back_replays_from():
    policy, kept = indexed(9)
    for present in (472_000, 418_000, 984_000, 267_000, 937_000):
        # A move leaves snapshots where its traced lead begins and around the present.
        kept += [present - 3_000, present - 1_000, present + 500]
        for dropped in policy.to_drop(kept, present=present, limit=8):
            kept.remove(dropped)
        assert present - 1_000 in kept, (present, kept)
        assert widest_gap(kept) <= 0.3 * END, (present, sorted(kept))
