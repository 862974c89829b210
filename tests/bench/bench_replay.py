"""Benchmarks of replay: ``python tests/bench/bench_replay.py [--quick] [--runs N] [--only NAME]``.

Every program of the recording benchmarks runs four ways, each a whole command timed
from outside: plain (``python ARGS``), recorded (``retrace-tui record -o REC -- ARGS``),
replayed (``retrace-tui replay REC``, its output going to /dev/null) and verified
(``retrace-tui verify REC``). After one unmeasured warm-up round, each measured round
runs the four in turn, starting one later each round, so that drift on a busy machine
hits all alike; a replay replays the latest recording. The table shows replay / record
and, in brackets, replay / plain, of medians.

It also measures what the ``.pth`` hook (``retrace-tui install``) costs a Python that
starts without ``RETRACE_RECORDING``. That installs the hook into the environment of the
interpreter running this script, so run it with a scratch venv's python; the hook is
left as it was found. What each row means: docs/performance.md.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from statistics import median

import workloads
from bench_record import BenchError, Row, Runner, Sizes, Timed, check_pytest, cpu_arguments, run_benchmarks

KINDS = ("plain", "record", "replay", "verify")
ORIGINAL = "+~1 s each"  # the original Retrace: "added ~1 s of fixed delay to every replay"


class ReplayRunner(Runner):
    """Runs a program plain and recorded, and replays and verifies its recording."""

    def replayed(self, cwd: Path) -> Timed:
        return self.run([*self.retrace_tui, "replay", str(self.recording)], cwd, discard_stdout=True)

    def verified(self, cwd: Path) -> Timed:
        timed = self.run([*self.retrace_tui, "verify", str(self.recording)], cwd)
        if not timed.stdout.startswith("matched:"):
            raise BenchError(f"verify did not report a match: {timed.stdout.strip()[-200:]!r}")
        return timed

    def rounds(self, arguments: list[str], cwd: Path, runs: int) -> dict[str, list[Timed]]:
        """One warm-up round, then ``runs`` rounds of the four kinds, rotated each round."""
        do = {"plain": lambda: self.plain(arguments, cwd), "record": lambda: self.recorded(arguments, cwd),
              "replay": lambda: self.replayed(cwd), "verify": lambda: self.verified(cwd)}
        for kind in KINDS:
            do[kind]()
        times: dict[str, list[Timed]] = {kind: [] for kind in KINDS}
        for run in range(runs):
            for kind in KINDS[run % 4:] + KINDS[:run % 4]:
                times[kind].append(do[kind]())
        return times


def medians(times: dict[str, list[Timed]]) -> dict[str, float]:
    return {kind: median(t.seconds for t in runs) for kind, runs in times.items()}


def describe_rounds(times: dict[str, list[Timed]], scale: float = 1.0, unit: str = "s") -> str:
    """Every run's wall time and the median, per kind."""
    return "; ".join(f"{kind} " + " ".join(f"{t.seconds * scale:.3f}" for t in runs)
                     + f" (median {median(t.seconds for t in runs) * scale:.3f}) {unit}"
                     for kind, runs in times.items())


def ratio_rows(label: str, times: dict[str, list[Timed]], target: str, meets) -> list[Row]:
    """replay / record (and / plain) and the same for verify; ``meets(ratio to record)``."""
    middle = medians(times)
    rows = []
    for kind in ("replay", "verify"):
        to_record, to_plain = middle[kind] / middle["record"], middle[kind] / middle["plain"]
        rows.append(Row(f"{label}: {kind} / record (/ plain)", f"{to_record:.2f}x ({to_plain:.2f}x)", target,
                        ORIGINAL, meets(to_record)))
    return rows


# -- measurements -----------------------------------------------------------------------


def measure_cpu(runner: ReplayRunner, sizes: Sizes, notes: list[str]) -> list[Row]:
    """(a) Replay / record wall time of ~2 s of CPU-bound pure Python."""
    arguments = cpu_arguments(runner, sizes)
    times = runner.rounds(arguments, runner.scratch, sizes.runs)
    notes.append(f"(a) {arguments[1]} rounds; " + describe_rounds(times))
    seconds = median(t.loop for t in times["plain"])
    return ratio_rows(f"(a) CPU-bound pure Python ({seconds:.1f} s)", times, "≤ 1.3x", lambda r: r <= 1.3)


def measure_pytest(runner: ReplayRunner, sizes: Sizes, notes: list[str]) -> list[Row]:
    """(b) Replay / record wall time of a pytest run of ~50 small tests."""
    check_pytest()
    suite = runner.scratch / "suite"
    count = workloads.write_test_suite(suite, sizes.tests)
    times = runner.rounds(["-m", "pytest", "-q", "-p", "no:cacheprovider"], suite, sizes.runs)
    for timed in times["plain"] + times["record"]:
        if not re.search(rf"\b{count} passed\b", timed.stdout):
            raise BenchError(f"the generated suite did not pass all {count} tests: {timed.stdout.strip()[-200:]}")
    notes.append(f"(b) {count} tests; " + describe_rounds(times))
    return ratio_rows(f"(b) pytest, {count} tests", times, "≤ 1.3x", lambda r: r <= 1.3)


def measure_calls(runner: ReplayRunner, sizes: Sizes, notes: list[str]) -> list[Row]:
    """(c) Replay / record wall time of many time.time() and random.random() calls."""
    program = workloads.write_program(runner.scratch, "boundary_calls.py", workloads.CALLS_PROGRAM)
    times = runner.rounds([str(program), str(sizes.calls)], runner.scratch, sizes.runs)
    notes.append(f"(c) {sizes.calls} calls each; " + describe_rounds(times))
    calls = f"{sizes.calls // 1000}k + {sizes.calls // 1000}k calls"
    return ratio_rows(f"(c) time.time() and random.random(), {calls}", times, "< 1.0x", lambda r: r < 1.0)


def measure_startup(runner: ReplayRunner, sizes: Sizes, notes: list[str]) -> list[Row]:
    """The fixed cost of a replay: replaying ``-c pass`` minus ``python -c pass``."""
    # Twice the runs: each is cheap, and a few milliseconds of noise matter here.
    times = runner.rounds(["-c", "pass"], runner.scratch, sizes.runs * 2)
    notes.append("startup: " + describe_rounds(times, 1000, "ms"))
    middle = medians(times)
    return [Row(f"startup: {kind} of a -c pass recording, minus python -c pass",
                f"+{(middle[kind] - middle['plain']) * 1000:.1f} ms", "none set", ORIGINAL, None)
            for kind in ("replay", "verify")]


def measure_hook(runner: ReplayRunner, sizes: Sizes, notes: list[str]) -> list[Row]:
    """``python -c pass`` with the ``.pth`` hook installed minus without, variable unset."""
    if sys.prefix == sys.base_prefix:
        raise BenchError("not measured outside a virtual environment: it installs the hook into the "
                         "environment of the python running this script; run it with a scratch venv's python")
    path = Path(subprocess.run([sys.executable, "-c", "from retrace_tui.commands.install import hook_path; "
                                "print(hook_path())"], capture_output=True, text=True, check=True).stdout.strip())
    found = path.read_bytes() if path.exists() else None

    def hook(installed: bool) -> None:
        runner.run([*runner.retrace_tui, "install" if installed else "uninstall"], runner.scratch)
        if path.exists() != installed:
            raise BenchError(f"`retrace-tui {'install' if installed else 'uninstall'}` left {path} "
                             f"{'missing' if installed else 'in place'}")

    runs = sizes.runs * 4 + 1  # 21 with the default 5 runs: each run is ~15 ms, the effect is < 1 ms
    times: dict[bool, list[Timed]] = {True: [], False: []}
    try:
        hook(True)
        check_hook_records(runner)
        runner.plain(["-c", "pass"], runner.scratch)
        hook(False)
        runner.plain(["-c", "pass"], runner.scratch)
        for run in range(runs):
            for installed in ((True, False) if run % 2 else (False, True)):
                hook(installed)
                times[installed].append(runner.plain(["-c", "pass"], runner.scratch))
    finally:
        if found is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(found)
    added = median(t.seconds for t in times[True]) - median(t.seconds for t in times[False])
    notes.append(f"hook ({path}): " + "; ".join(
        f"{'installed' if installed else 'uninstalled'} " + " ".join(f"{t.seconds * 1000:.2f}" for t in runs)
        + f" (median {median(t.seconds for t in runs) * 1000:.2f}) ms" for installed, runs in times.items()))
    return [Row("hook installed, RETRACE_RECORDING unset: python -c pass, minus without hook",
                f"{added * 1000:+.2f} ms", "< 5 ms", "", added < 0.005)]


def check_hook_records(runner: ReplayRunner) -> None:
    """With the variable set, the installed hook records: so the hook measured is a working one."""
    recording = runner.scratch / "hook.retrace"
    environment = dict(runner.environment, RETRACE_RECORDING=str(recording))
    subprocess.run([sys.executable, "-c", "pass"], cwd=runner.scratch, env=environment, capture_output=True,
                   timeout=60)
    if not recording.exists():
        raise BenchError("the installed hook did not record `python -c pass` with RETRACE_RECORDING set")


MEASUREMENTS = {"cpu": measure_cpu, "pytest": measure_pytest, "calls": measure_calls,
                "startup": measure_startup, "hook": measure_hook}


def main(argv: list[str] | None = None) -> int:
    return run_benchmarks("bench_replay", "Benchmarks of retrace-tui replay and of the .pth hook.",
                          MEASUREMENTS, ReplayRunner, argv)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
