"""Benchmarks of watchpoints, histories and logpoints: ``python tests/bench/bench_watchpoints.py
[--seconds S] [--long S]``.

One pure-Python program (``PROGRAM`` below) is recorded three times with ``retrace-tui
record``, calibrated on this machine so that its plain work takes ``--seconds`` (default
2) or, for the logpoint, ``--long`` (default 20), and opened in a headless Session in
this process. Measured, against the targets of issue 16:

- ``reverse_continue()`` with a watch on a local, from the function's ``return`` back over
  the plain work to the line that changed it (target: at most 2 s). Twice: the work in a
  function the watched one calls (its lines are deeper: the tracer does not stop there,
  and going back skips the stretches between snapshots spent in there) and the work as a
  loop in the watched function itself (the tracer stops only at the lines that store the
  watched local and the line after each);
- ``history()`` of one local over a short call at the end of the run, and over the call
  that holds the plain work (target for one call: at most 300 ms);
- ``logpoint()`` on a line that runs every 1,000 rounds of a ``--long`` run, against the
  plain run (target: at most 1.5x).

Each is the median of ``--runs`` (default 3). The recordings go into one temporary
folder that is removed at the end.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from statistics import median

import machine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROGRAM = '''\
import sys


def busy(rounds):
    total = 0
    for i in range(rounds):
        total += (i * i + 7) % 13
    return total


def logged(i):
    square = i * i
    return square


def watched_callee(rounds):
    rate = 0.1
    rate = 0.35
    busy(rounds)
    return rate


def watched_loop(rounds):
    rate = 0.1
    rate = 0.35
    total = 0
    for i in range(rounds):
        total += (i * i + 7) % 13
    return rate + total * 0


def short_call(n):
    price = n * 2
    price = price + 1
    price = price * 3
    return price


def long_run(rounds):
    total = 0
    for i in range(rounds):
        total += (i * i + 7) % 13
        if i % 1000 == 0:
            logged(i)
    return total


mode, rounds = sys.argv[1], int(sys.argv[2])
if mode == "callee":
    watched_callee(rounds)
elif mode == "loop":
    watched_loop(rounds)
else:
    long_run(rounds)
print(short_call(7))
'''
LINES = {text.strip(): number for number, text in enumerate(PROGRAM.splitlines(), 1)}


def line_of(text: str, function: str) -> int:
    """The line of ``text`` inside ``function`` (several functions share a text)."""
    lines = PROGRAM.splitlines()
    start = next(n for n, t in enumerate(lines, 1) if t.startswith(f"def {function}("))
    return next(n for n, t in enumerate(lines[start:], start + 1) if t.strip() == text)


def run_plain(folder: str, mode: str, rounds: int) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "program.py", mode, str(rounds)], cwd=folder, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def calibrate(folder: str, seconds: float) -> int:
    """Rounds of busy() that take ``seconds`` in a plain run here."""
    probe = 2_000_000
    spent = run_plain(folder, "callee", probe) - run_plain(folder, "callee", 0)
    return max(1000, int(probe * seconds / max(spent, 1e-3)))


def record(folder: str, mode: str, rounds: int) -> str:
    path = os.path.join(folder, f"{mode}.retrace")
    subprocess.run([sys.executable, "-m", "retrace_tui", "record", "-o", path, "--", "program.py", mode, str(rounds)],
                   cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return path


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def at_line(session, program: str, line: int):
    session.goto(1)
    session.set_breakpoint(program, line)
    stop = session.continue_()
    session.breakpoints.clear()
    assert stop.line == line, f"did not reach line {line}: {stop}"
    return stop


def measure_watch(folder: str, mode: str, rounds: int, runs: int) -> list[list[str]]:
    from retrace_core.control.session import Session

    program = os.path.join(folder, "program.py")
    function = "watched_callee" if mode == "callee" else "watched_loop"
    plain = median(run_plain(folder, mode, rounds) for _ in range(runs))
    path = record(folder, mode, rounds)
    rows = []
    with Session(path) as session:
        backs, histories = [], []
        for _ in range(runs):
            at_line(session, program, line_of("return rate" if mode == "callee" else "return rate + total * 0",
                                               function))
            watch = session.watch("rate")
            spent, stop = timed(session.reverse_continue)
            assert (stop.reason, stop.line) == ("watch", line_of("rate = 0.35", function)), stop
            session.unwatch(watch)
            backs.append(spent)
            at_line(session, program, line_of("return rate" if mode == "callee" else "return rate + total * 0",
                                               function))
            spent, history = timed(lambda: session.history("rate"))
            assert [entry["value"] for entry in history] == ["0.1", "0.35"], history
            histories.append(spent)
        shorts = []
        for _ in range(runs):
            at_line(session, program, line_of("return price", "short_call"))
            spent, history = timed(lambda: session.history("price"))
            assert [entry["value"] for entry in history] == ["14", "15", "45"], history
            shorts.append(spent)
    where = "in a callee" if mode == "callee" else "a loop in the watched function"
    rows.append([f"watch reverse_continue over the work ({where})", f"{plain:.2f} s plain",
                 f"{median(backs):.2f} s", "<= 2 s", "met" if median(backs) <= 2 else "MISSED"])
    rows.append([f"history of a local over the call with the work ({where})", f"{plain:.2f} s plain",
                 f"{median(histories) * 1000:.0f} ms", "(one call: <= 300 ms)", ""])
    if mode == "callee":
        rows.append(["history of a local over a short call at the end", "", f"{median(shorts) * 1000:.0f} ms",
                     "<= 300 ms", "met" if median(shorts) <= 0.3 else "MISSED"])
    return rows


def measure_logpoint(folder: str, rounds: int, runs: int) -> list[list[str]]:
    from retrace_core.control.session import Session

    program = os.path.join(folder, "program.py")
    plain = median(run_plain(folder, "long", rounds) for _ in range(runs))
    path = record(folder, "long", rounds)
    spent = []
    with Session(path) as session:
        for _ in range(runs):
            session.goto(1)
            took, hits = timed(lambda: session.logpoint(program, LINES["square = i * i"], "i"))
            assert len(hits) == (rounds + 999) // 1000, len(hits)
            spent.append(took)
    ratio = median(spent) / plain
    return [[f"logpoint over the whole run ({len(hits)} hits)", f"{plain:.2f} s plain", f"{median(spent):.2f} s "
             f"({ratio:.2f}x)", "<= 1.5x", "met" if ratio <= 1.5 else "MISSED"]]


def format_table(rows: list[list[str]]) -> str:
    header = ["measure", "workload", "result", "target", ""]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    render = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([render(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(render, rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="plain work the watch goes back over")
    parser.add_argument("--long", type=float, default=20.0, help="plain run of the logpoint's recording")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as folder:
        with open(os.path.join(folder, "program.py"), "w") as handle:
            handle.write(PROGRAM)
        rounds = calibrate(folder, args.seconds)
        rows = measure_watch(folder, "callee", rounds, args.runs)
        rows += measure_watch(folder, "loop", rounds, args.runs)
        rows += measure_logpoint(folder, calibrate(folder, args.long), args.runs)
    print(machine.describe())
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
