"""Snapshots stay within the memory budget (`RETRACE_SNAPSHOT_MEMORY`, MiB of PSS summed
over the snapshots), and moves still land where they should with fewer snapshots.

The program rewrites a table of half a million ints each round, so every snapshot owns
its own copy of the table's pages: without a budget the indexing pass keeps ~48 of them.
"""
from retrace_core.control.session import Session
from retrace_core.control.snapshot_memory import proportional_size

PROGRAM = """
import time
table = list(range(500_000))
for round_ in range(12):
    for i in range(len(table)):
        table[i] = i * round_ + 1000
    time.time()
print(sum(table) % 97)
"""
MIB = 1024 * 1024


def snapshots_size(session: Session) -> int:
    return sum(proportional_size(process.pid) or 0 for process in session.workers.snapshots.values())


def moved(session: Session) -> list[tuple]:
    """goto and back at three places: where they land."""
    stops = []
    for position in (session.index.end // 3, session.index.end // 2, session.index.end - 10):
        goto, back = session.goto(position), session.back()
        stops.append((goto.position, goto.line, back.position, back.line))
    return stops


def test_snapshots_fit_the_budget_and_moves_still_land_right(record, write_program, monkeypatch):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0, run.stderr
    monkeypatch.setenv("RETRACE_SNAPSHOT_MEMORY", "100000")
    unlimited = Session(str(run.path))
    try:
        expected = moved(unlimited)
        unlimited_size = snapshots_size(unlimited)
    finally:
        unlimited.close()
    assert unlimited_size > 3 * 64 * MIB  # the program does make snapshots costly
    monkeypatch.setenv("RETRACE_SNAPSHOT_MEMORY", "64")
    budgeted = Session(str(run.path))
    try:
        assert moved(budgeted) == expected
        # measured every few snapshots: a little over between two measurements
        assert snapshots_size(budgeted) <= 1.5 * 64 * MIB
    finally:
        budgeted.close()
