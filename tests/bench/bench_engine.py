"""Benchmarks of the time-travel engine: ``python tests/bench/bench_engine.py [--seconds S]``.

One CPU-bound pure-Python program (``workloads.ENGINE_PROGRAM``), calibrated so that its
plain run takes ``--seconds`` (default 25, or ``RETRACE_BENCH_SECONDS``) on this
machine, is recorded with ``retrace-tui record`` and opened in a headless
``retrace_core.control.session.Session`` in this process. Measured, against the
engine's targets:

- the indexing pass (``Session()``: start the replay worker, replay to the end with the
  tracer on, take snapshots) against the plain run (``python program.py``), runs
  interleaved, medians; the same for the Python reference tracer on a program a tenth
  as long (it is many times slower);
- ``back()`` at random positions, each after a ``goto(p)`` (timed too, without a
  target), and ``goto_event(n)`` for random events, in random order, p50 and p95; a
  move that fails is counted, and the session goes on;
- ``reverse_continue()`` from the end to a breakpoint on a line that ran once, 40% of
  the run (10 s of the default 25 s) of plain work earlier, and ``continue_()`` from the
  first line to it (60% of the run ahead), against that plain work;
- the memory of all live snapshots and the active worker together (the sum of their
  PSS, from /proc/PID/smaps_rollup) against the plain run's maximum RSS.

Everything is written into one temporary folder that is removed at the end.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median, quantiles

import machine
import workloads
from bench_record import BenchError, Runner, Timed, check_cli, describe_code

SECONDS = float(os.environ.get("RETRACE_BENCH_SECONDS", "25"))  # plain run of the program
GAP = 0.4  # share of the run between the breakpoint's one hit and the end (10 s of 25 s)
PYTHON_TRACER_SHARE = 0.1  # the reference tracer replays a program this much as long
PROBE_ROUNDS = 300_000  # the calibration run: ~0.2 s on a 2020s x86 core

@dataclass
class Row:
    name: str
    measured: str
    target: str
    ok: bool | None  # None: no target to meet, or the measurement failed


@dataclass
class Plain:
    """One plain run of the program, timed from outside."""

    seconds: float  # wall time of the whole command
    cpu: float  # user + system time of the process
    max_rss: int  # bytes
    loop: float  # the loop time the program printed about itself


@dataclass
class Workload:
    """The program, its arguments for a run of about ``seconds``, and its recording."""

    program: Path
    rounds: int
    marked: int
    recording: Path

    @property
    def arguments(self) -> list[str]:
        return [str(self.program), str(self.rounds), str(self.marked)]


# -- running the program --------------------------------------------------------------


def run_plain(runner: Runner, arguments: list[str]) -> Plain:
    """``python ARGUMENTS``, with its own rusage (wait4), so its RSS is its own and not the
    largest of all this script's children."""
    out, err = runner.scratch / "plain.out", runner.scratch / "plain.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, *arguments], cwd=runner.scratch, env=runner.environment,
                                   stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait
    if process.returncode != 0:
        last = (err.read_text(errors="replace").strip() or "no output").splitlines()[-1]
        raise BenchError(f"`python {' '.join(arguments)}` exited with {process.returncode}: {last}")
    loop = Timed(seconds, out.read_text()).loop
    return Plain(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, loop)


def prepare(runner: Runner, seconds: float, name: str) -> Workload:
    """Write the program, calibrate its rounds to ``seconds`` of plain work on this machine
    (one small plain run) and record it."""
    program = runner.scratch / "engine_program.py"
    if not program.exists():
        workloads.write_program(runner.scratch, program.name, workloads.ENGINE_PROGRAM)
    probe = run_plain(runner, [str(program), str(PROBE_ROUNDS), str(PROBE_ROUNDS // 2)]).loop
    rounds = max(int(PROBE_ROUNDS * seconds / probe), 10_000)
    workload = Workload(program, rounds, int(rounds * (1 - GAP)), runner.scratch / f"{name}.retrace")
    runner.recording = workload.recording
    recorded = runner.recorded(workload.arguments, runner.scratch)
    if "checkpoints 1" not in recorded.stdout:
        raise BenchError(f"the recorded program did not finish as expected: {recorded.stdout.strip()[-200:]!r}")
    return workload


def open_session(workload: Workload, tracer: str = "c"):
    """A Session on the recording (its indexing pass included) and the seconds it took."""
    from retrace_core.control.session import Session

    start = time.perf_counter()
    session = Session(str(workload.recording), tracer=tracer)
    return session, time.perf_counter() - start


def interleaved(runner: Runner, workload: Workload, runs: int):
    """``runs`` plain runs and indexing passes, interleaved (plain, index, index, plain,
    ...) so that drift on a busy machine hits both alike. Returns the plain runs, the
    indexing times and the last Session, left open."""
    plain: list[Plain] = []
    indexing: list[float] = []
    session = None
    for run in range(runs):
        if run % 2 == 1:
            plain.append(run_plain(runner, workload.arguments))
        if session is not None:
            session.close()
        session, seconds = open_session(workload)
        indexing.append(seconds)
        if run % 2 == 0:
            plain.append(run_plain(runner, workload.arguments))
    return plain, indexing, session


# -- numbers --------------------------------------------------------------------------


def p50_p95(values: list[float]) -> tuple[float, float]:
    return median(values), quantiles(values, n=20, method="inclusive")[18]


def milliseconds(values: list[float]) -> str:
    return " ".join(f"{value * 1000:.0f}" for value in values) + " ms"


def mib(size: float) -> str:
    return f"{size / (1 << 20):.1f} MiB"


def proportional_size(pid: int) -> int | None:
    """The process's PSS in bytes (its private pages, and its share of those it shares
    with other processes), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    raise BenchError(f"no Pss line in /proc/{pid}/smaps_rollup")


# -- measurements ---------------------------------------------------------------------


def measure_indexing(plain: list[Plain], indexing: list[float], session, workload: Workload,
                     notes: list[str]) -> list[Row]:
    """The indexing pass (Session()) / the plain run, medians of wall times."""
    plain_seconds = median(p.seconds for p in plain)
    ratio = median(indexing) / plain_seconds
    notes.append(f"C tracer: {workload.rounds} rounds, {session.index.end:,} positions, "
                 f"{len(session.index.event_positions):,} events, {len(session._snapshots)} live snapshots after "
                 f"indexing; plain " + " ".join(f"{p.seconds:.2f}" for p in plain) + " s (CPU "
                 + " ".join(f"{p.cpu:.2f}" for p in plain) + " s, loop " + " ".join(f"{p.loop:.2f}" for p in plain)
                 + " s); indexing " + " ".join(f"{s:.2f}" for s in indexing) + " s")
    return [Row(f"replay to the end, C tracer ({plain_seconds:.1f} s program): indexing pass / plain run",
                f"{ratio:.2f}x ({median(indexing):.1f} s)", "≤ 2x", ratio <= 2)]


def measure_python_tracer(runner: Runner, seconds: float, runs: int, notes: list[str]) -> list[Row]:
    """The same for the Python reference tracer, on a program a tenth as long: one
    indexing pass among ``runs`` plain runs."""
    workload = prepare(runner, seconds * PYTHON_TRACER_SHARE, "python-tracer")
    plain = [run_plain(runner, workload.arguments) for _ in range(runs // 2)]
    session, indexing = open_session(workload, tracer="python")
    positions = session.index.end
    session.close()
    plain += [run_plain(runner, workload.arguments) for _ in range(runs - runs // 2)]
    plain_seconds = median(p.seconds for p in plain)
    notes.append(f"Python tracer: {workload.rounds} rounds, {positions:,} positions; plain "
                 + " ".join(f"{p.seconds:.2f}" for p in plain) + f" s; indexing {indexing:.2f} s (one run)")
    share = f"1/{round(1 / PYTHON_TRACER_SHARE)}"
    return [Row(f"replay to the end, Python reference tracer ({plain_seconds:.1f} s program, {share} of the "
                f"duration; one pass): indexing / plain", f"{indexing / plain_seconds:.2f}x ({indexing:.1f} s)",
                "none (reference)", None)]


def timed(move):
    """Run ``move()``; its Stop and the seconds it took."""
    start = time.perf_counter()
    stop = move()
    return stop, time.perf_counter() - start


def latency_row(name: str, times: list[float], attempts: int, failures: list[str], limit: float | None,
                target: str) -> Row:
    """p50 / p95 of the moves that worked, against ``limit`` for p95 (None: no target); a
    move that failed misses the target too."""
    failed = f", {len(failures)} of {attempts} failed" if failures else ""
    if len(times) < 2:
        return Row(name, f"failed{failed}", target, False if limit is not None else None)
    p50, p95 = p50_p95(times)
    ok = None if limit is None else p95 <= limit and not failures
    return Row(name, f"{p50 * 1000:.0f} / {p95 * 1000:.0f} ms{failed}", target, ok)


def measure_back(session, samples: int, rng: random.Random, notes: list[str]) -> list[Row]:
    """back() at random positions (in random order), each reached by a goto(p) first,
    which is timed too but has no target of its own."""
    from retrace_core.control.session import EngineError

    times, gotos, failures = [], [], []
    for position in rng.sample(range(2, session.index.end + 1), samples):
        try:
            _, seconds = timed(lambda: session.goto(position))
            gotos.append(seconds)
            stop, seconds = timed(session.back)
        except EngineError as exc:  # the session goes on: the next move starts from a snapshot
            failures.append(f"at {position:,}: {type(exc).__name__}: {exc}")
            continue
        if stop.position >= position:
            failures.append(f"back() from {position:,} went to {stop.position:,}")
            continue
        times.append(seconds)
    notes.append(f"back(): {milliseconds(times)}; the goto(p) before each: {milliseconds(gotos)}"
                 + "".join(f"; failed {failure}" for failure in failures))
    return [latency_row(f"back() after goto(p), {samples} random positions: p50 / p95", times, samples,
                        failures, 0.100, "p95 ≤ 100 ms"),
            latency_row("goto(p) to those positions, before each back(): p50 / p95", gotos, len(gotos), [],
                        None, "none set")]


def measure_goto_event(session, samples: int, rng: random.Random, notes: list[str]) -> list[Row]:
    """goto_event(n) for random events, in random order (so forward and backward)."""
    from retrace_core.control.session import EngineError

    positions = session.index.event_positions
    numbers = rng.sample(range(1, len(positions) + 1), min(samples, len(positions)))
    times, failures = [], []
    for number in numbers:
        try:
            stop, seconds = timed(lambda: session.goto_event(number))
        except EngineError as exc:
            failures.append(f"event {number}: {type(exc).__name__}: {exc}")
            continue
        if stop.position != max(positions[number - 1], 1):
            failures.append(f"goto_event({number}) stopped at {stop.position:,}, not {positions[number - 1]:,}")
            continue
        times.append(seconds)
    notes.append(f"goto_event(n) of {len(positions):,} events: {milliseconds(times)}"
                 + "".join(f"; failed {failure}" for failure in failures))
    return [latency_row(f"goto_event(n), {len(numbers)} random events: p50 / p95", times, len(numbers),
                        failures, 0.300, "≤ 300 ms")]


def breakpoint_move(prepare, move, failures: list[str]):
    """``prepare()`` untimed, then ``move()`` timed: (stop, seconds) when it stopped on the
    workload's breakpoint; None, with why in ``failures``, when it did not."""
    from retrace_core.control.session import EngineError

    try:
        prepare()
        stop, seconds = timed(move)
    except EngineError as exc:
        failures.append(f"{type(exc).__name__}: {exc}")
        return None
    if (stop.line, stop.function) != (workloads.BREAKPOINT_LINE, "checkpoint"):
        failures.append(f"stopped at {stop.file}:{stop.line} ({stop.reason}), not at line {workloads.BREAKPOINT_LINE}")
        return None
    return stop, seconds


def measure_reverse_continue(session, workload: Workload, plain: list[Plain], runs: int,
                             notes: list[str]) -> list[Row]:
    """reverse_continue() from the last line of the run to the breakpoint's one hit,
    ``runs`` times, each after an untimed goto(end)."""
    session.set_breakpoint(str(workload.program), workloads.BREAKPOINT_LINE)
    times, gotos, failures, hits = [], [], [], set()
    for _ in range(runs):
        moved = breakpoint_move(lambda: gotos.append(timed(lambda: session.goto(session.index.end))[1]),
                                session.reverse_continue, failures)
        if moved is not None:
            times.append(moved[1])
            hits.add(moved[0].position)
    session.clear_breakpoint(str(workload.program), workloads.BREAKPOINT_LINE)
    back = GAP * median(p.loop for p in plain)
    notes.append(f"reverse_continue() from {session.index.end:,} to {', '.join(f'{h:,}' for h in sorted(hits))}: "
                 + " ".join(f"{t:.2f}" for t in times) + " s; the goto(end) before each: "
                 + " ".join(f"{t:.2f}" for t in gotos) + " s" + "".join(f"; failed: {f}" for f in failures))
    name = f"reverse_continue() to a breakpoint {back:.1f} s of plain work back, median of {runs}"
    failed = f", {len(failures)} of {runs} failed" if failures else ""
    if not times:
        return [Row(name, f"failed{failed}", "≤ 1 s", False)]
    return [Row(name, f"{median(times):.2f} s{failed}", "≤ 1 s", median(times) <= 1.0 and not failures)]


def measure_continue(session, workload: Workload, plain: list[Plain], runs: int, notes: list[str]) -> list[Row]:
    """continue_() from the first line to the breakpoint's one hit, ``runs`` times (after
    an untimed goto(1)); once more with the line map off (traced all the way), to compare."""
    session.set_breakpoint(str(workload.program), workloads.BREAKPOINT_LINE)
    before = (1 - GAP) * median(p.loop for p in plain)
    times, traced, failures = [], [], []
    try:
        for use_map in [True] * runs + [False]:
            session.untraced = use_map
            moved = breakpoint_move(lambda: session.goto(1), session.continue_, failures)
            if moved is not None:
                (times if use_map else traced).append(moved[1])
    finally:
        session.untraced = True
        session.clear_breakpoint(str(workload.program), workloads.BREAKPOINT_LINE)
    notes.append(f"continue_() from the first line to the breakpoint ({before:.1f} s of plain work): "
                 + " ".join(f"{t:.2f}" for t in times) + " s over the line map; traced all the way: "
                 + " ".join(f"{t:.2f}" for t in traced) + " s" + "".join(f"; failed: {f}" for f in failures))
    name, failed = f"continue_() to a breakpoint {before:.1f} s of plain work ahead / plain, median of {runs}", \
        f", {len(failures)} failed" if failures else ""
    if not times:
        return [Row(name, f"failed{failed}", "≤ 1.5x", False)]
    ratio = median(times) / before
    return [Row(name, f"{ratio:.2f}x ({median(times):.2f} s){failed}", "≤ 1.5x", ratio <= 1.5 and not failures)]


def measure_memory(session, plain: list[Plain], when: str, notes: list[str]) -> list[Row]:
    """The PSS of every live snapshot and the active worker, summed, / the plain run's max RSS."""
    processes = [*session._snapshots.values(), *([session.worker] if session.worker else [])]
    sizes = {process.pid: proportional_size(process.pid) for process in processes}
    gone = [pid for pid, size in sizes.items() if size is None]
    total = sum(size for size in sizes.values() if size is not None)
    program = median(p.max_rss for p in plain)
    worker = sizes.get(session.worker.pid) if session.worker else None
    notes.append(f"memory {when}: {len(session._snapshots)} snapshots + worker, PSS {mib(total)} (worker "
                 f"{mib(worker or 0)}); plain max RSS " + " ".join(mib(p.max_rss) for p in plain)
                 + (f"; gone before measured: {gone}" if gone else ""))
    return [Row(f"memory {when}: PSS of {len(session._snapshots)} live snapshots + the worker",
                f"{mib(total)} ({total / program:.1f}x the program's {mib(program)} RSS)", "none set", None)]


# -- output ---------------------------------------------------------------------------


def format_table(rows: list[Row]) -> str:
    """A Markdown table: readable in a terminal, pasted as is into docs/performance.md."""
    header = ["measurement", "measured", "target", "verdict"]
    lines = [[row.name, row.measured, row.target, {True: "met", False: "MISSED", None: ""}[row.ok]]
             for row in rows]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([render(header), separator, *(render(line) for line in lines)])


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmarks of the retrace-tui time-travel engine.")
    parser.add_argument("--seconds", type=float, default=SECONDS,
                        help="plain run time of the program to calibrate to (default 25, or RETRACE_BENCH_SECONDS)")
    parser.add_argument("--runs", type=int, default=3,
                        help="plain runs and indexing passes, and reverse_continue() runs (default 3)")
    parser.add_argument("--samples", type=int, default=20, help="random positions / events (default 20)")
    parser.add_argument("--seed", type=int, default=7, help="of the random positions and events")
    options = parser.parse_args(argv)
    if options.seconds <= 0 or options.runs < 1 or options.samples < 2:
        parser.error("--seconds must be positive, --runs at least 1, --samples at least 2")
    return options


def attempt(name: str, rows: list[Row], notes: list[str], measure, *arguments) -> None:
    """Run one measurement; a failure becomes a 'failed' row and a note."""
    from retrace_core.control.session import EngineError

    print(f"measuring {name} ...", file=sys.stderr, flush=True)
    try:
        rows.extend(measure(*arguments))
    except (BenchError, EngineError) as exc:
        rows.append(Row(name, "failed", "", None))
        notes.append(f"{name} failed: {type(exc).__name__}: {exc}")


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    try:
        from retrace_core.control.session import EngineError
    except ImportError as exc:
        print(f"bench_engine: retrace_core is not importable by {sys.executable} ({exc})", file=sys.stderr)
        return 2
    rows: list[Row] = []
    notes: list[str] = []
    rng = random.Random(options.seed)
    with tempfile.TemporaryDirectory(prefix="retrace-bench-") as scratch:
        runner = Runner(Path(scratch))
        try:
            check_cli(runner.scratch)
        except BenchError as exc:
            print(f"bench_engine: {exc}", file=sys.stderr)
            return 2
        print(f"machine: {machine.describe()}")
        print(f"code: {describe_code(runner.scratch)}; command: {' '.join(runner.retrace_tui)}")
        print(f"before: {machine.load()}", flush=True)
        try:
            print(f"recording a {options.seconds:g} s program ...", file=sys.stderr, flush=True)
            workload = prepare(runner, options.seconds, "engine")
            print("plain runs and indexing passes ...", file=sys.stderr, flush=True)
            plain, indexing, session = interleaved(runner, workload, options.runs)
        except (BenchError, EngineError) as exc:
            print(f"bench_engine: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        try:
            attempt("indexing", rows, notes, measure_indexing, plain, indexing, session, workload, notes)
            attempt("memory", rows, notes, measure_memory, session, plain, "after indexing", notes)
            attempt("back", rows, notes, measure_back, session, options.samples, rng, notes)
            attempt("goto_event", rows, notes, measure_goto_event, session, options.samples, rng, notes)
            attempt("reverse_continue", rows, notes, measure_reverse_continue, session, workload, plain,
                    options.runs, notes)
            attempt("continue", rows, notes, measure_continue, session, workload, plain, options.runs, notes)
            attempt("memory", rows, notes, measure_memory, session, plain, "after the moves above", notes)
        finally:
            session.close()
        attempt("python tracer", rows, notes, measure_python_tracer, runner, options.seconds, options.runs, notes)
    print(f"after: {machine.load()}")
    print(format_table(rows))
    print()
    print("\n".join(notes))
    return 1 if any("failed" in row.measured for row in rows) else 0  # a move that failed too


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
