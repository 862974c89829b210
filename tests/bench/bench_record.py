"""Benchmarks of recording: ``python tests/bench/bench_record.py [--quick] [--runs N]``.

Every program runs plain (``python ARGS``) and recorded (``retrace-tui record -o REC --
ARGS``) with the interpreter that runs this script and the ``retrace-tui`` installed
next to it (``python -m retrace_tui`` when there is none). Runs are interleaved
(plain, recorded, recorded, plain, ...) after one warm-up pair, each whole command is
timed from outside, and the table shows medians next to the targets and the numbers of
the original Retrace. What each row means: docs/performance.md.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import median
from typing import Callable

import machine
import workloads

HASH_SEED = "4242"  # the same for plain and recorded runs: dict and str work cost the same
TIMEOUT = 600  # seconds for one command; a hung recorder must not hang the benchmark


class BenchError(Exception):
    """A benchmark could not run; the message is one line for the user."""


@dataclass
class Sizes:
    runs: int
    cpu_seconds: float  # (a) plain loop time the workload is calibrated to
    tests: int  # (b)
    calls: int  # (c)


FULL = Sizes(runs=5, cpu_seconds=2.0, tests=50, calls=200_000)
QUICK = Sizes(runs=1, cpu_seconds=0.3, tests=20, calls=20_000)


@dataclass
class Row:
    name: str
    measured: str
    target: str
    original: str
    ok: bool | None  # None: no target to meet, or the measurement failed


@dataclass
class Timed:
    seconds: float  # wall time of the whole command, from outside
    stdout: str

    @property
    def loop(self) -> float:
        """The ``loop SECONDS`` the program printed about itself."""
        found = re.search(r"^loop (\S+)", self.stdout, re.MULTILINE)
        if found is None:
            raise BenchError(f"the program did not print its loop time; it printed: {self.stdout[-200:]!r}")
        return float(found.group(1))


# -- running programs -------------------------------------------------------------------


def retrace_tui_command() -> list[str]:
    """The ``retrace-tui`` console script of this interpreter's environment, as a user runs
    it; ``python -m retrace_tui`` (~5 ms slower: it imports runpy) when there is none."""
    script = Path(sys.executable).parent / "retrace-tui"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "retrace_tui"]


class Runner:
    """Runs a Python program plain and recorded, in one scratch folder."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.recording = scratch / "run.retrace"
        self.retrace_tui = retrace_tui_command()
        # Both kinds of run see the same environment, normalised to what a user has:
        # bytecode is cached (the warm-up run fills a cache in the scratch folder, so
        # the checkout gets no __pycache__), stdout is buffered, the hash seed is fixed.
        self.environment = {k: v for k, v in os.environ.items()
                            if not k.startswith(("RETRACE", "_RETRACE"))
                            and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")}
        self.environment["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
        self.environment["PYTHONHASHSEED"] = HASH_SEED
        self.environment["TMPDIR"] = str(scratch)  # pytest's tmp_path lands here and goes with it

    def run(self, command: list[str], cwd: Path, discard_stdout: bool = False) -> Timed:
        """Time ``command`` from outside; with ``discard_stdout`` its stdout is /dev/null."""
        start = time.perf_counter()
        try:
            completed = subprocess.run(command, cwd=cwd, env=self.environment, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL if discard_stdout else subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise BenchError(f"`{' '.join(command[1:])}` did not finish in {TIMEOUT} s") from None
        seconds = time.perf_counter() - start
        if completed.returncode != 0:
            last = (completed.stderr.strip() or (completed.stdout or "").strip() or "no output").splitlines()[-1]
            raise BenchError(f"`{' '.join(command[1:])}` exited with {completed.returncode}: {last}")
        return Timed(seconds, completed.stdout or "")

    def plain(self, arguments: list[str], cwd: Path) -> Timed:
        return self.run([sys.executable, *arguments], cwd)

    def recorded(self, arguments: list[str], cwd: Path) -> Timed:
        return self.run([*self.retrace_tui, "record", "-o", str(self.recording), "--", *arguments], cwd)

    def pairs(self, arguments: list[str], cwd: Path, runs: int,
              after_recorded: Callable[[], None] | None = None) -> tuple[list[Timed], list[Timed]]:
        """One unmeasured warm-up pair, then ``runs`` plain and recorded runs, interleaved.

        ``after_recorded`` is called after each measured recorded run, while its
        recording is still there.
        """
        self.plain(arguments, cwd)
        self.recorded(arguments, cwd)
        plain, recorded = [], []
        for run in range(runs):
            if run % 2 == 1:
                plain.append(self.plain(arguments, cwd))
            recorded.append(self.recorded(arguments, cwd))
            if after_recorded is not None:
                after_recorded()
            if run % 2 == 0:
                plain.append(self.plain(arguments, cwd))
        return plain, recorded


def describe_runs(label: str, runs: list[float], unit: str = "s") -> str:
    return f"{label}: " + " ".join(f"{value:.3f}" for value in runs) + f" {unit}"


def describe_pairs(plain: list[Timed], recorded: list[Timed]) -> str:
    """Every run's wall time, and recorded / plain of the runs made next to each other."""
    ratios = " ".join(f"{r.seconds / p.seconds:.3f}" for p, r in zip(plain, recorded))
    return (describe_runs("plain", [p.seconds for p in plain]) + "; "
            + describe_runs("recorded", [r.seconds for r in recorded]) + f"; pairwise ratios: {ratios}")


def count_events(recording: Path, function: str | None = None) -> int:
    """Events on the root process's tape (only those of ``function`` if given)."""
    from retrace_core.tape.recording import Recording

    with Recording(str(recording)) as opened:
        events = opened.tape().events
    return sum(1 for event in events if function is None or event.function == function)


# -- measurements -----------------------------------------------------------------------


def cpu_arguments(runner: Runner, sizes: Sizes) -> list[str]:
    """(a)'s program and its number of rounds, calibrated by one small plain run so that
    the plain loop takes ``sizes.cpu_seconds`` on this machine."""
    program = workloads.write_program(runner.scratch, "cpu_bound.py", workloads.CPU_PROGRAM)
    probe_rounds = 100_000
    probe = runner.plain([str(program), str(probe_rounds)], runner.scratch).loop
    return [str(program), str(max(int(probe_rounds * sizes.cpu_seconds / probe), 1000))]


def measure_cpu(runner: Runner, sizes: Sizes, notes: list[str]) -> list[Row]:
    """(a) Recorded / plain wall time of ~2 s of CPU-bound pure Python."""
    arguments = cpu_arguments(runner, sizes)
    rounds = arguments[1]
    plain, recorded = runner.pairs(arguments, runner.scratch, sizes.runs)
    ratio = median(r.seconds for r in recorded) / median(p.seconds for p in plain)
    loop_ratio = median(r.loop for r in recorded) / median(p.loop for p in plain)
    notes.append(f"(a) {rounds} rounds, {count_events(runner.recording)} events on the tape; "
                 + describe_pairs(plain, recorded) + f"; in-process loop ratio {loop_ratio:.3f}x")
    seconds = median(p.loop for p in plain)
    return [Row(f"(a) CPU-bound pure Python ({seconds:.1f} s): recorded / plain", f"{ratio:.3f}x",
                "≤ 1.03x", "1.06x", ratio <= 1.03)]


def measure_pytest(runner: Runner, sizes: Sizes, notes: list[str]) -> list[Row]:
    """(b) Recorded / plain wall time of a pytest run of ~50 small tests."""
    check_pytest()
    suite = runner.scratch / "suite"
    count = workloads.write_test_suite(suite, sizes.tests)
    arguments = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]
    plain, recorded = runner.pairs(arguments, suite, sizes.runs)
    for timed in plain + recorded:
        if not re.search(rf"\b{count} passed\b", timed.stdout):
            raise BenchError(f"the generated suite did not pass all {count} tests: {timed.stdout.strip()[-200:]}")
    ratio = median(r.seconds for r in recorded) / median(p.seconds for p in plain)
    notes.append(f"(b) {count} tests, {count_events(runner.recording)} events on the tape; "
                 + describe_pairs(plain, recorded))
    return [Row(f"(b) pytest, {count} tests: recorded / plain", f"{ratio:.2f}x", "≤ 1.3x", "2.0x",
                ratio <= 1.3)]


def measure_calls(runner: Runner, sizes: Sizes, notes: list[str]) -> list[Row]:
    """(c) Added time per recorded ``time.time()`` call, and tape bytes per event."""
    program = workloads.write_program(runner.scratch, "boundary_calls.py", workloads.CALLS_PROGRAM)
    arguments = [str(program), str(sizes.calls)]
    sizes_per_event: list[float] = []

    def weigh_tape() -> None:
        sizes_per_event.append(tape_bytes_per_event(runner.recording, "time.time", sizes.calls))

    plain, recorded = runner.pairs(arguments, runner.scratch, sizes.runs, after_recorded=weigh_tape)
    per_call = (median(r.seconds for r in recorded) - median(p.seconds for p in plain)) / sizes.calls
    per_call_loop = (median(r.loop for r in recorded) - median(p.loop for p in plain)) / sizes.calls
    per_event = median(sizes_per_event)
    notes.append(f"(c) {sizes.calls} calls each; " + describe_pairs(plain, recorded) + "; "
                 + describe_runs("loop plain", [p.loop for p in plain]) + "; "
                 + describe_runs("loop recorded", [r.loop for r in recorded]))
    calls = f"{sizes.calls // 1000}k calls"
    return [
        Row(f"(c) added time per time.time() call ({calls}), whole command", f"{per_call * 1e6:.2f} µs",
            "≤ 1 µs", "~21 µs", per_call <= 1e-6),
        Row(f"(c) added time per time.time() call ({calls}), inside the loop",
            f"{per_call_loop * 1e6:.2f} µs", "≤ 1 µs", "", per_call_loop <= 1e-6),
        Row("(c) tape bytes per time.time() event", f"{per_event:.2f} B", "≤ 12 B", "25 B", per_event <= 12),
    ]


def tape_bytes_per_event(recording: Path, function: str, expected: int) -> float:
    """Size of the root process's tape inside the archive / its events of ``function``."""
    events = count_events(recording, function)
    if events != expected:
        raise BenchError(f"expected {expected} {function} events on the tape, found {events}")
    with zipfile.ZipFile(recording) as archive:
        tapes = [info for info in archive.infolist() if info.filename.endswith(".bin") and "/" not in info.filename]
    if len(tapes) != 1:
        raise BenchError(f"expected one process tape in the recording, found {len(tapes)}")
    return tapes[0].compress_size / events


def measure_startup(runner: Runner, sizes: Sizes, notes: list[str]) -> list[Row]:
    """Startup: ``retrace-tui record -o X -- -c pass`` minus ``python -c pass``."""
    # Twice the runs: each is cheap, and a few milliseconds of noise matter here.
    plain, recorded = runner.pairs(["-c", "pass"], runner.scratch, sizes.runs * 2)
    added = median(r.seconds for r in recorded) - median(p.seconds for p in plain)
    notes.append("startup: " + describe_runs("plain", [p.seconds * 1000 for p in plain], "ms") + "; "
                 + describe_runs("recorded", [r.seconds * 1000 for r in recorded], "ms"))
    return [Row("startup: record -- -c pass, minus python -c pass", f"+{added * 1000:.1f} ms", "≤ +80 ms",
                "+220 ms", added <= 0.080)]


def measure_objects(runner: Runner, sizes: Sizes, notes: list[str]) -> list[Row]:
    """(d) Recorded / plain time of objects hashed by identity, with stable hashes (the
    default) and without (``RETRACE_STABLE_HASHES=0``)."""
    program = workloads.write_program(runner.scratch, "objects.py", workloads.OBJECTS_PROGRAM)
    rounds = max(sizes.calls, 20_000)
    arguments = [str(program), str(rounds)]
    rows = []
    for setting, label in (("1", "stable hashes"), ("0", "address hashes (RETRACE_STABLE_HASHES=0)")):
        runner.environment["RETRACE_STABLE_HASHES"] = setting
        try:
            plain, recorded = runner.pairs(arguments, runner.scratch, sizes.runs)
        finally:
            del runner.environment["RETRACE_STABLE_HASHES"]
        loop_ratio = median(r.loop for r in recorded) / median(p.loop for p in plain)
        notes.append(f"(d) {rounds * 10} objects, {label}: " + describe_pairs(plain, recorded)
                     + f"; in-process loop ratio {loop_ratio:.3f}x")
        rows.append(Row(f"(d) {rounds * 10 // 1000}k objects hashed once, looked up, dropped: recorded / plain "
                        f"loop, {label}", f"{loop_ratio:.2f}x", "none", "", None))
    return rows


MEASUREMENTS = {"cpu": measure_cpu, "pytest": measure_pytest, "calls": measure_calls,
                "objects": measure_objects, "startup": measure_startup}


# -- output -----------------------------------------------------------------------------


def format_table(rows: list[Row]) -> str:
    """A Markdown table: readable in a terminal, pasted as is into docs/performance.md."""
    header = ["measurement", "measured", "target", "original Retrace", "verdict"]
    lines = [[row.name, row.measured, row.target, row.original,
              {True: "met", False: "MISSED", None: ""}[row.ok]] for row in rows]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([render(header), separator, *(render(line) for line in lines)])


def describe_code(cwd: Path) -> str:
    """The retrace-tui being measured: version, where it is installed, and the commit when
    that is this checkout. ``cwd`` must not be the checkout, or python finds it there."""
    found = subprocess.run([sys.executable, "-c", "import os, retrace_tui; print(retrace_tui.__version__); "
                            "print(os.path.dirname(os.path.dirname(os.path.abspath(retrace_tui.__file__))))"],
                           capture_output=True, text=True, cwd=cwd).stdout.split("\n")
    version, location = found[0], found[1]
    repository = Path(__file__).resolve().parents[2]
    if Path(location).resolve() != repository:
        return f"retrace-tui {version} installed in {location}"
    git = ["git", "-C", str(repository)]
    try:
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        changed = subprocess.run([*git, "status", "--porcelain", "--", "core", "retrace_tui", "csrc"],
                                 capture_output=True, text=True).stdout.strip()
    except OSError:
        commit, changed = "", ""
    state = f", commit {commit}" + (" with uncommitted changes to core/retrace_tui/csrc" if changed else "")
    return f"retrace-tui {version} from the checkout {repository}" + (state if commit else "")


def check_cli(cwd: Path) -> None:
    completed = subprocess.run([*retrace_tui_command(), "--version"], capture_output=True, text=True, cwd=cwd)
    if completed.returncode != 0:
        raise BenchError(f"`{sys.executable} -m retrace_tui` does not run; install the project into this "
                         f"interpreter (pip install -e .) or run the script with the venv's python")


def check_pytest() -> None:
    completed = subprocess.run([sys.executable, "-m", "pytest", "--version"], capture_output=True, text=True)
    if completed.returncode != 0:
        raise BenchError(f"pytest is not installed for {sys.executable} (pip install -e '.[test]')")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {text}")
    return int(text)


def parse_arguments(argv: list[str] | None, measurements: dict, description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 run each, smaller sizes")
    parser.add_argument("--runs", type=_positive, help="runs per program (default 5, 1 with --quick)")
    parser.add_argument("--only", action="append", choices=sorted(measurements), metavar="NAME",
                        help=f"run only these measurements ({', '.join(measurements)}); repeatable")
    return parser.parse_args(argv)


def run_benchmarks(script: str, description: str, measurements: dict, runner_class: type[Runner],
                   argv: list[str] | None) -> int:
    """The command line of a benchmark script: parse ``argv``, run the measurements chosen
    in one scratch folder, print the machine, the load before and after, the table and the
    notes. Returns the exit status."""
    options = parse_arguments(argv, measurements, description)
    sizes = QUICK if options.quick else FULL
    if options.runs:
        sizes = replace(sizes, runs=options.runs)
    rows: list[Row] = []
    notes: list[str] = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="retrace-bench-") as scratch:
        runner = runner_class(Path(scratch))
        try:
            check_cli(runner.scratch)
        except BenchError as exc:
            print(f"{script}: {exc}", file=sys.stderr)
            return 2
        print(f"machine: {machine.describe()}")
        print(f"code: {describe_code(runner.scratch)}; command: {' '.join(runner.retrace_tui)}")
        print(f"before: {machine.load()}", flush=True)
        for name, measure in measurements.items():
            if options.only and name not in options.only:
                continue
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            try:
                rows.extend(measure(runner, sizes, notes))
            except BenchError as exc:
                failed = True
                rows.append(Row(name, "failed", "", "", None))
                notes.append(f"{name} failed: {exc}")
    print(f"after: {machine.load()}")
    print(format_table(rows))
    print()
    print("\n".join(notes))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    return run_benchmarks("bench_record", "Benchmarks of retrace-tui recording.", MEASUREMENTS, Runner, argv)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
