"""The debugger at real size: ``python tests/bench/bench_scale.py [--tests N] [--moves M]``.

Generates a pytest suite of ``--tests`` small tests (default 5,000, in modules of 100;
each uses ``tmp_path``, the clock, ``random`` and a small file written and read back)
with one failing test in the next-to-last module, and measures, against issue 13's
targets:

- the plain run, ``record`` (wall time and tape size), ``verify``;
- ``retrace-tui inspect REC --at failure`` (wall time and peak RSS of the command and
  its replay workers), against the plain run;
- ``retrace-tui REC`` in Textual's headless Pilot: its first full screen (the failure,
  from a first look before the index) and the moment its moves are ready;
- a first look in a headless ``Session``: the time to stand at the failure, and moves
  (back, back, next, ...) inside the failing test before any index;
- in a headless ``Session`` opened on the recording: ``goto_event(n)`` for ``--moves``
  random events, each followed by ``back()``, p50 and p95.

Runs are not repeated (the suite takes minutes); run it twice and compare. Everything is
written into one temporary folder that is removed at the end.
"""
from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import quantiles

import machine

MODULE_SIZE = 100

TEST = '''
def test_t{n}(tmp_path):
    start = time.time()
    value = random.random()
    path = tmp_path / "d.json"
    path.write_text(json.dumps({{"v": value, "n": {n}}}))
    data = json.loads(path.read_text())
    assert data["n"] == {n} and time.time() >= start
'''

FAILING = '''
def test_failing():
    total = sum(range(10))
    assert total == 46
'''


def write_suite(folder: Path, tests: int) -> int:
    """The suite; returns the number of modules. The failing test is in the next-to-last."""
    modules = max(2, -(-tests // MODULE_SIZE))
    folder.mkdir(parents=True)
    for module in range(modules):
        count = min(MODULE_SIZE, tests - module * MODULE_SIZE) if module < modules - 1 else MODULE_SIZE
        body = "import json, random, time\n" + "".join(TEST.format(n=n) for n in range(max(count, 1)))
        if module == modules - 2:
            body += FAILING
        (folder / f"test_m{module:03d}.py").write_text(body)
    return modules


def timed(command: list[str], cwd: Path) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds, peak RSS (KiB) of the command's processes, and the result."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, result


def moves(recording: Path, count: int) -> tuple[list[float], list[float], int, tuple[int, float]]:
    """Timed goto_event/back pairs, the number of events, and the snapshots the indexing
    pass left within the memory budget: (how many, their PSS in MiB)."""
    from retrace_core.control.session import Session
    from retrace_core.control.snapshot_memory import proportional_size

    goto_times, back_times = [], []
    with Session(str(recording)) as session:
        events = len(session.index.event_positions)
        kept = list(session.workers.snapshots.values())
        snapshots = len(kept), sum(proportional_size(process.pid) or 0 for process in kept) / (1 << 20)
        chosen = random.Random(13).sample(range(1, events + 1), min(count, events))
        for number in chosen:
            started = time.perf_counter()
            session.goto_event(number)
            goto_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            session.back()
            back_times.append(time.perf_counter() - started)
    return goto_times, back_times, events, snapshots


def tui_screens(recording: Path) -> tuple[float, float, bool]:
    """`retrace-tui REC` in Textual's headless Pilot (120x40): seconds from creating the app
    to its first full screen (a first look at the failure, before the index), and to the
    debugger standing at the failure with its moves ready; whether the first was the failure."""
    import asyncio
    import os

    from retrace_tui.app import RetraceApp

    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="retrace-bench-state-")
    times: dict = {}

    async def main() -> None:
        started = time.monotonic()
        app = RetraceApp(str(recording))
        async with app.run_test(size=(120, 40)) as pilot:
            while app.view is None:
                await pilot.pause(0.05)
            times["first"] = time.monotonic() - started
            times["failure"] = app.view.reason == "failure"
            while app.debugger is None or not app.view.indexed or not app.engine.idle():
                await pilot.pause(0.05)
            times["ready"] = time.monotonic() - started

    asyncio.run(main())
    return times["first"], times["ready"], times["failure"]


def first_look_moves(recording: Path, count: int) -> tuple[float, list[float]]:
    """A first look (no indexing pass): seconds to stand at the failure, then ``count``
    moves back and forth inside the failing test, each timed (back, back, next, ...)."""
    from retrace_core.control.first_look import look_at_failure
    from retrace_core.control.session import Session

    started = time.monotonic()
    with Session(str(recording), index=False) as session:
        if look_at_failure(session) is None:
            raise SystemExit("the first look found no failure")
        opened = time.monotonic() - started
        times = []
        for verb in (["back", "back", "next"] * count)[:count]:
            started = time.monotonic()
            getattr(session, verb)()
            times.append(time.monotonic() - started)
    return opened, times


def p(values: list[float], percent: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return quantiles(values, n=100, method="inclusive")[percent - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=5_000)
    parser.add_argument("--moves", type=int, default=20)
    options = parser.parse_args()
    python = sys.executable
    print(machine.describe())
    print(machine.load())
    rows = []
    with tempfile.TemporaryDirectory(prefix="retrace-bench-scale-") as scratch:
        work = Path(scratch)
        suite = work / "suite"
        write_suite(suite, options.tests)
        environment_note = f"{options.tests} tests + 1 failing"
        plain, _, run = timed([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], suite)
        if run.returncode != 1:
            print(f"the plain run should fail one test: exit {run.returncode}\n{run.stdout[-500:]}")
            return 1
        recording = work / "suite.retrace"
        recorded, _, run = timed([python, "-m", "retrace_tui", "record", "-o", str(recording), "--",
                                  "-m", "pytest", "-q", "-p", "no:cacheprovider"], suite)
        size = recording.stat().st_size / 1e6
        verified, _, run = timed([python, "-m", "retrace_tui", "verify", str(recording)], suite)
        verify_ok = run.returncode == 0 or "matched" in run.stdout
        inspected, peak, run = timed([python, "-m", "retrace_tui", "inspect", str(recording), "--at", "failure"],
                                     suite)
        inspect_ok = "test_m" in run.stdout and "assert" in run.stdout
        first_screen, ready, first_is_failure = tui_screens(recording)
        looked, look_moves = first_look_moves(recording, options.moves)
        goto_times, back_times, events, (kept, kept_mib) = moves(recording, options.moves)
        rows = [
            ("plain run", f"{plain:.1f} s ({environment_note})", "", None),
            ("record / plain", f"{recorded / plain:.2f}x ({recorded:.1f} s)", "<= 1.3x", recorded / plain <= 1.3),
            ("recording size", f"{size:.1f} MB ({events:,} events)", "<= 60 MB", size <= 60),
            ("verify / plain", f"{verified / plain:.2f}x" + ("" if verify_ok else " (DIVERGED)"), "none", None),
            ("inspect --at failure / plain", f"{inspected / plain:.2f}x ({inspected:.1f} s)"
             + ("" if inspect_ok else " (NO FAILURE SHOWN)"), "<= 1.5x", inspect_ok and inspected / plain <= 1.5),
            ("retrace-tui REC: first full screen / plain", f"{first_screen / plain:.2f}x ({first_screen:.1f} s)"
             + ("" if first_is_failure else " (NOT THE FAILURE)"), "<= 1.5x",
             first_is_failure and first_screen / plain <= 1.5),
            ("retrace-tui REC: moves ready at the failure / plain", f"{ready / plain:.2f}x ({ready:.1f} s)", "none",
             None),
            ("first look in a Session: at the failure / plain", f"{looked / plain:.2f}x ({looked:.1f} s)", "none",
             None),
            ("first look: back/back/next inside the failing test, p50 / p95",
             f"{p(look_moves, 50) * 1000:.0f} / {p(look_moves, 95) * 1000:.0f} ms", "p95 <= 100 ms (as back())",
             p(look_moves, 95) <= 0.1),
            ("peak RSS of a child (inspect, its workers, any run)", f"{peak / 1024:.0f} MiB", "<= 1024 MiB",
             peak <= 1 << 20),
            ("snapshots after the indexing pass (within the memory budget)", f"{kept} ({kept_mib:.0f} MiB PSS)",
             "none", None),
            ("goto_event(n), p50 / p95", f"{p(goto_times, 50) * 1000:.0f} / {p(goto_times, 95) * 1000:.0f} ms",
             "p95 <= 300 ms", p(goto_times, 95) <= 0.3),
            ("back() after it, p50 / p95", f"{p(back_times, 50) * 1000:.0f} / {p(back_times, 95) * 1000:.0f} ms",
             "p95 <= 100 ms", p(back_times, 95) <= 0.1),
        ]
    print(machine.load())
    print("\n| measurement | measured | target | verdict |\n|---|---|---|---|")
    for name, measured, target, ok in rows:
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        print(f"| {name} | {measured} | {target} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
