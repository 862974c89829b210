"""Benchmarks of threaded programs: ``python tests/bench/bench_threads.py [--runs N]``.

Once a program starts a thread, every lock hand-off is an event, and a replay runs one
thread at a time in the recorded turns. This measures what that costs on three
programs full of hand-offs: each runs plain, recorded and verified (interleaved, after
a warm-up round), timed from outside; the table shows medians, the ratios, and the
cost of one thread event. Issue 7 sets no numeric target: the numbers go into
docs/performance.md as they are.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from statistics import median

import machine

PROGRAMS = {
    "thread pool, 2000 tasks": """
        import concurrent.futures
        def work(n):
            return sum(range(n % 50))
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            print(sum(pool.map(work, range(2000))))
    """,
    "4 threads, 5000 locked increments each": """
        import threading
        lock, total = threading.Lock(), [0]
        def bump():
            for _ in range(5000):
                with lock:
                    total[0] += 1
        threads = [threading.Thread(target=bump) for _ in range(4)]
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        print(total[0])
    """,
    "queue.Queue, 5000 items producer to consumer": """
        import queue, threading
        items = queue.Queue(maxsize=100)
        def produce():
            for i in range(5000):
                items.put(i)
            items.put(None)
        got = []
        def consume():
            while (item := items.get()) is not None:
                got.append(item)
        threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        print(len(got))
    """,
}


def retrace() -> list[str]:
    installed = Path(sys.executable).parent / "retrace-tui"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "retrace_tui"]


def timed(command: list[str], cwd: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"bench_threads: {' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    return time.perf_counter() - started


def thread_events(recording: str) -> int:
    listed = subprocess.run([*retrace(), "events", recording, "--json"], capture_output=True, text=True)
    return sum(1 for event in json.loads(listed.stdout)
               if event["function"].startswith(("threading.", "_thread.", "thread.")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(machine.describe())
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, source in PROGRAMS.items():
            program = os.path.join(folder, "program.py")
            Path(program).write_text(textwrap.dedent(source))
            recording = os.path.join(folder, "run.retrace")
            plain_cmd = [sys.executable, program]
            record_cmd = [*retrace(), "record", "-o", recording, "--", program]
            verify_cmd = [*retrace(), "verify", recording]
            times = {"plain": [], "record": [], "verify": []}
            for round_number in range(runs + 1):  # the first round warms caches up
                for kind, command in (("plain", plain_cmd), ("record", record_cmd), ("verify", verify_cmd)):
                    seconds = timed(command, folder)
                    if round_number:
                        times[kind].append(seconds)
            plain, recorded, verified = (median(times[kind]) for kind in ("plain", "record", "verify"))
            events = thread_events(recording)
            rows.append((name, plain, recorded, verified, events))
    print(f"\n{'program':46} {'plain':>8} {'record':>8} {'verify':>8} {'rec/plain':>9} "
          f"{'ver/rec':>8} {'events':>7} {'µs/event':>9}")
    for name, plain, recorded, verified, events in rows:
        per_event = (recorded - plain) / events * 1e6 if events else float("nan")
        print(f"{name:46} {plain:8.3f} {recorded:8.3f} {verified:8.3f} {recorded / plain:8.2f}x "
              f"{verified / recorded:7.2f}x {events:7d} {per_event:9.1f}")
    print("\ntargets: none set (issue 7); µs/event = (record - plain) / thread events, whole command")


if __name__ == "__main__":
    main()
