"""A recording of many child Pythons: ``python tests/bench/bench_children.py [--children N]``.

A test suite that runs its CLI in child Pythons (typer's: 426 of them) leaves a tape per
child, and the recorded root writes the recording's process tree when it exits: each
child's header and ending, and the event of its parent that started it. Reading every
tape whole for that held them all in memory at once; this measures what the root's exit
costs now. The program starts N children one after another, each making EVENTS boundary
calls; it runs plain and recorded, the recording's tree is read back as `pids` shows it,
and `verify` replays every process (each replay extracts the tapes it reads, not the whole
recording).
Issue 13 sets no target for this; the numbers go into docs/performance.md.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import machine

PARENT = """
    import subprocess, sys
    for number in range(int(sys.argv[1])):
        subprocess.run([sys.executable, "child.py", sys.argv[2]], check=True)
    print("children done")
"""
CHILD = """
    import os, sys, time
    for _ in range(int(sys.argv[1])):
        os.stat(".")
        time.time()
"""


def retrace() -> list[str]:
    installed = Path(sys.executable).parent / "retrace-tui"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "retrace_tui"]


def timed(command: list[str], cwd: str) -> tuple[float, int]:
    """Seconds, and the largest peak RSS (MiB) of any process the command waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench_children: {' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    return seconds, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=300)
    parser.add_argument("--events", type=int, default=10000, help="boundary calls per child, about")
    options = parser.parse_args()
    print(machine.describe())
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "parent.py").write_text(textwrap.dedent(PARENT))
        Path(folder, "child.py").write_text(textwrap.dedent(CHILD))
        recording = os.path.join(folder, "run.retrace")
        arguments = [str(options.children), str(options.events // 2)]
        plain, _ = timed([sys.executable, "parent.py", *arguments], folder)
        recorded, peak = timed([*retrace(), "record", "-o", recording, "--", "parent.py", *arguments], folder)
        listed, _ = timed([*retrace(), "pids", recording], folder)
        verified, _ = timed([*retrace(), "verify", recording], folder)
        size = os.path.getsize(recording) / 1e6
        tree = subprocess.run([*retrace(), "pids", recording], capture_output=True, text=True).stdout.splitlines()
    print(f"\n{options.children} children of about {options.events} events each; recording {size:.0f} MB, "
          f"{len(tree)} processes listed")
    print(f"{'measurement':52} {'value':>10}")
    print(f"{'plain run':52} {plain:9.1f}s")
    print(f"{'recorded run (the root writes the tree at its exit)':52} {recorded:9.1f}s")
    print(f"{'record / plain':52} {recorded / plain:9.2f}x")
    print(f"{'peak RSS of any process of the recorded run':52} {peak:7d} MiB")
    print(f"{'`pids` of the recording':52} {listed:9.1f}s")
    print(f"{'`verify` of the recording (every process replayed)':52} {verified:9.1f}s")
    print("\ntargets: none set (issue 13: the debugger and its snapshots within 1 GiB)")


if __name__ == "__main__":
    main()
