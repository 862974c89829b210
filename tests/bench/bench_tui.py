"""Keypress to updated screen for `n` and `b`, and start to first full screen, on the
quickstart recording (the TUI issue's numbers).

    python tests/bench/bench_tui.py [--presses 40]

Drives the real app headlessly through Textual's Pilot. A press is timed from the moment
it is sent to the moment the app has put the engine's answer into every pane (the end
of `RetraceApp._show`); Textual paints that on its next frame (at most 1/60 s later).
Pilot's own waiting after a press (about 100 ms here) is not the app's and not counted.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))

import machine  # noqa: E402

from retrace_tui.app import RetraceApp  # noqa: E402
from tui_helpers import settle  # noqa: E402

QUICKSTART = Path(__file__).resolve().parents[2] / "quickstart"


def record_quickstart(folder: Path) -> Path:
    project = folder / "quickstart"
    shutil.copytree(QUICKSTART, project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    recording = project / "pytest.retrace"
    subprocess.run([sys.executable, "-m", "retrace_tui", "record", "-o", str(recording), "--", "-m", "pytest",
                    "tests", "-q", "-p", "no:cacheprovider"], cwd=project, capture_output=True, check=False)
    return recording


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(recording: Path, presses: int) -> dict[str, list[float]]:
    started = time.perf_counter()
    app = RetraceApp(str(recording))
    timings: dict[str, list[float]] = {"start": [], "n": [], "b": []}
    drawn: list[float] = []
    show = app._show

    def timed_show(view, *args, **kwargs) -> None:
        show(view, *args, **kwargs)
        drawn.append(time.perf_counter())

    app._show = timed_show
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        timings["start"].append(drawn[-1] - started)
        for index in range(presses):
            key = "b" if index % 4 < 2 else "n"  # back twice, forward twice: stays near the failure
            before = time.perf_counter()
            await pilot.press(key)
            await settle(pilot)
            timings[key].append(drawn[-1] - before)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--starts", type=int, default=3, help="how many times to measure the start")
    args = parser.parse_args()
    os.environ.setdefault("RETRACE_TUI_CONFIG", os.path.join(tempfile.mkdtemp(), "config.toml"))
    with tempfile.TemporaryDirectory() as folder:
        recording = record_quickstart(Path(folder))
        runs = [asyncio.run(measure(recording, args.presses if i == 0 else 0)) for i in range(args.starts)]
    starts = [run["start"][0] for run in runs]
    first = runs[0]
    print(f"# TUI ({machine.describe()})")
    print("| measurement | p50 | p95 | target | verdict |")
    print("|---|---|---|---|---|")
    for key in ("n", "b"):
        values = first[key]
        p50, p95 = statistics.median(values) * 1000, percentile(values, 0.95) * 1000
        print(f"| `{key}` keypress to updated screen ({len(values)} presses) | {p50:.0f} ms | {p95:.0f} ms "
              f"| p95 ≤ 150 ms | {'met' if p95 <= 150 else 'MISSED'} |")
    median_start = statistics.median(starts)
    print(f"| start to first full screen ({len(starts)} starts; median, max) | {median_start:.2f} s | "
          f"{max(starts):.2f} s | ≤ 1.5 s | {'met' if median_start <= 1.5 else 'MISSED'} |")


if __name__ == "__main__":
    main()
