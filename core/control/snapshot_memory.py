"""Snapshots within a memory budget: the proportional set size (PSS) of all of them.

A snapshot is a fork: it shares its pages with the worker it was forked from until one
of them writes a page, so its cost is the pages the program has rewritten since. A
program that rewrites a large table makes each snapshot cost that table; one that only
reads its data costs almost nothing. A count of snapshots says nothing about memory, so
the controller measures: PSS (each shared page divided among the processes sharing it)
from ``/proc/PID/smaps_rollup``, summed over the snapshots. Reading it walks the process's
page tables (17 ms for 48 snapshots of a 25 MiB program), so it is read every few
snapshots and at most twice a second; in between, the total is estimated from the last
measured size per snapshot.

The budget is ``RETRACE_SNAPSHOT_MEMORY`` (MiB, default 512). Over it, the policy drops
snapshots by its usual rule (the smallest gap for the distance from the present) until
the estimate, the measured total less the average of those dropped, is within it.
"""
from __future__ import annotations

import os
import time

DEFAULT_BUDGET_MIB = 512
BUDGET_VARIABLE = "RETRACE_SNAPSHOT_MEMORY"
MEASURE_EVERY = 4  # snapshots taken between two measurements, at least
MEASURE_GAP = 0.5  # seconds between two measurements, at least


def budget_from_environment() -> int:
    """The budget in bytes; a bad setting is the default, not an error in the middle of a move."""
    try:
        mib = float(os.environ.get(BUDGET_VARIABLE, DEFAULT_BUDGET_MIB))
    except ValueError:
        mib = DEFAULT_BUDGET_MIB
    return int(max(mib, 1) * 1024 * 1024)


def proportional_size(pid: int) -> int | None:
    """The process's PSS in bytes, or None when it is gone (or the kernel has no rollup)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class MemoryBudget:
    """Measures the snapshots now and then, and says how many to drop to fit."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = budget_from_environment() if budget is None else budget
        self._since_measured = 0
        self._measured_at = 0.0
        self.last_total: int | None = None  # bytes, at the last measurement
        self._average: float | None = None  # bytes per snapshot, at the last measurement

    def excess_snapshots(self, pids: list[int]) -> int:
        """How many of these snapshots to drop to fit the budget. Between measurements the
        total is estimated from the last measured average per snapshot."""
        self._since_measured += 1
        now = time.monotonic()
        if len(pids) < 2:
            return 0
        if self._average is None or (self._since_measured >= MEASURE_EVERY and now - self._measured_at >= MEASURE_GAP):
            sizes = [size for size in map(proportional_size, pids[:-1]) if size is not None]
            if not sizes:
                return 0
            self._since_measured, self._measured_at = 0, now
            # The newest snapshot (last: the order they were taken in) was forked a moment ago
            # and still shares most pages with the worker, which PSS counts half to each: it
            # will cost what the others do once the worker rewrites them, so it counts so.
            self._average = sum(sizes) / len(sizes)
            self.last_total = total = sum(sizes) + self._average
        else:
            total = self._average * len(pids)
        if total <= self.budget:
            return 0
        return min(len(pids) - 1, int((total - self.budget) / self._average) + 1)
