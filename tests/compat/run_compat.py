#!/usr/bin/env python3
"""Record, verify and replay under the engine the test suites of real PyPI packages
(see docs/compatibility.md).

    python3.11 tests/compat/run_compat.py [--work DIR] [--only NAME,...] [--editable | --ref REF | --wheel WHL]
                                          [--reuse] [--repeat N] [--table] [--overhead-only] [--repros]

For each package of corpus.py: download its sdist from PyPI (``pip download --no-binary NAME``),
unpack it, make a venv with retrace-tui, the package (built from that sdist) and its test
dependencies, then run its suite four ways:

  plain     python -m pytest -q -p no:cacheprovider ARGS
  recorded  retrace-tui record -o NAME.retrace -- -m pytest -q -p no:cacheprovider ARGS
  verify    retrace-tui verify --json NAME.retrace
  engine    retrace-tui inspect NAME.retrace --at end

and print a table: pytest's counts plain and recorded, the verdict of verify, whether the
engine reached the end without a divergence, the overhead (recorded / plain wall time, and
the same for CPU time), the times, and the recorder's warnings; then the three counts
(results unchanged, verify exact, engine to the end) and the median overhead. Each suite's
row is also saved as results/NAME.json (``--table`` prints the table of the saved rows and
its Markdown). Everything lives under ``--work`` (default /tmp/retrace-compat); nothing is
written into this checkout. retrace-tui is installed from a copy of this checkout's files
(git ls-files), from ``--ref``, from a ``--wheel``, or editable with ``--editable``. Exit
status 0 when every suite passed the three checks, 1 otherwise.

Not a pytest test (nothing here is collected) and not run in CI: it needs PyPI and, for
all suites, about an hour on two cores.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from corpus import PACKAGES
from installing import CPU, REPO, checked, prepare, retrace_wheel, run

PYTEST = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]

EVENT = re.compile(r"^\s*\d+\s+t(\d+)\s+([\w.]+)\((.*)$")
CATEGORIES = {  # what the table's "touches" column counts, from `retrace-tui events`
    "clock": lambda f, a: f.startswith(("time.", "datetime.")) and f != "time.sleep",
    "sleep": lambda f, a: f == "time.sleep",
    "random": lambda f, a: f in ("os.urandom", "os.getrandom") or f.startswith("uuid."),
    "tmp_path": lambda f, a: "/pytest-of-" in a,
    "subprocess": lambda f, a: f.startswith(("_posixsubprocess.", "os.posix_spawn")),
    "socket": lambda f, a: f.startswith("socket."),
    "select": lambda f, a: f.startswith(("select.", "selectors.")),
}
COUNT = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|deselected)\b")


def counts(output: str) -> dict[str, int]:
    """pytest's final summary line as {outcome: number}."""
    for line in reversed(output.splitlines()):
        found = COUNT.findall(line)
        if found and (" in " in line or "=" in line):
            result = {}
            for number, outcome in found:
                result["errors" if outcome.startswith("error") else outcome] = int(number)
            return result
    return {}


def shown(result: dict[str, int]) -> str:
    if not result:
        return "no summary"
    order = ["passed", "failed", "errors", "skipped", "xfailed", "xpassed", "deselected"]
    return " ".join(f"{result[k]}{k[0] if k not in ('xfailed', 'xpassed', 'deselected') else k[:2]}"
                    for k in order if result.get(k))


def touches(tui: str, recording: Path) -> tuple[dict[str, int], int, str | None]:
    """How many events of each category the recording holds, its thread count, and an
    error when the tape cannot be listed."""
    found = dict.fromkeys(CATEGORIES, 0)
    threads = set()
    process = subprocess.Popen([tui, "events", str(recording)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, errors="replace")
    for line in process.stdout:
        match = EVENT.match(line)
        if match is None:
            continue
        threads.add(match.group(1))
        for category, test in CATEGORIES.items():
            if test(match.group(2), match.group(3)):
                found[category] += 1
    error = process.stderr.read().strip()
    return found, len(threads), (error or None) if process.wait() != 0 else None


def run_repros(work: Path, retrace: str, editable: bool) -> int:
    """Record and verify each minimal program of tests/compat/repros (the known limitations)."""
    environment = work / "venvs" / "_repros"
    if not (environment / "bin" / "python").exists():
        venv.EnvBuilder(with_pip=True).create(environment)
    checked([str(environment / "bin" / "python"), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps",
             *(["-e", retrace] if editable else [retrace])])
    checked([str(environment / "bin" / "python"), "-m", "pip", "install", "-q", *(["-e", retrace] if editable
                                                                                 else [retrace])])
    # time_machine_now.py needs it
    checked([str(environment / "bin" / "python"), "-m", "pip", "install", "-q", "time-machine"])
    tui = str(environment / "bin" / "retrace-tui")
    folder = Path(__file__).resolve().parent / "repros"
    for script in sorted(folder.glob("*.py")):
        if script.name == "repro_helper.py":
            continue
        recording = work / "recordings" / f"repro-{script.stem}.retrace"
        recorded = run([tui, "record", "-o", str(recording), "--", str(script)], cwd=str(folder), timeout=60)
        if recorded[0] == -9:
            print(f"{script.name:<28} record HUNG (killed after 60 s)")
            continue
        verified = run([tui, "verify", str(recording)], cwd=str(folder), timeout=120)
        listed = run([tui, "events", str(recording)], cwd=str(folder), timeout=60)
        verdict = (verified[2] or verified[3]).strip().splitlines()
        inspected = run([tui, "inspect", str(recording), "--at", "end"], cwd=str(folder), timeout=120)
        reached, problem, _where = judge_inspect(inspected[0], inspected[2], inspected[3], 120)
        print(f"{script.name:<28} record {recorded[0]}  verify {verified[0]}: {verdict[0] if verdict else '?'}")
        print(f"{'':<28} inspect --at end: {'end' if reached else problem}")
        if listed[0] != 0:
            print(f"{'':<28} events: {listed[3].strip()}")
    return 0


INSPECTED_END = "the program has ended here"
DIVERGED_WARNING = "warning: the replay diverged"


def suite_environment() -> dict:
    """The suites' own environment: no proxies (only localhost is used), no retrace
    variables, and Python as users run it: writing its bytecode cache and buffering its
    output (a shell of ours that set PYTHONDONTWRITEBYTECODE hid a divergence at every
    first recording after an edit)."""
    return {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")
            and not k.startswith(("RETRACE_", "_RETRACE_")) and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")}


def judge_inspect(status: int, out: str, err: str, timeout: float) -> tuple[bool, str | None, str | None]:
    """Whether `inspect --at end` reached the end: exit status 0, no divergence warning, and
    "position N of N" (for a pytest run the engine stands in pytest's last frame there) or
    "the program has ended here"; else what went wrong. Also the position line."""
    text = out + err
    where = re.search(r"^position (\d+) of (\d+), event (\d+) of (\d+).*$", out, re.MULTILINE)
    # The engine's last position is the last line the program ran; events after it (the
    # interpreter's shutdown: threading._shutdown's locks, atexit) are not a position, so
    # "event E of M" with E < M there is noted in the table, not counted as a failure.
    at_end = INSPECTED_END in out or (where is not None and where.group(1) == where.group(2))
    reached = status == 0 and DIVERGED_WARNING not in text and at_end
    if reached:
        problem = None
    elif status == -9:
        problem = f"timed out after {timeout:.0f} s"
    elif DIVERGED_WARNING in text:
        after = text.split(DIVERGED_WARNING, 1)[1].strip().splitlines()
        problem = "diverged: " + " ".join(line.strip() for line in after[1:4] if line.strip())[:400]
    elif status == 0:
        problem = f"stopped before the end: {where.group(0) if where else 'no position'}"
    else:
        lines = [line for line in (err.strip() or out.strip()).splitlines() if line.strip()]
        problem = f"exit {status}: " + (" ".join(lines[-3:])[:400] if lines else "no output")
    return reached, problem, where.group(0) if where else None


def inspect_end(tui: str, recording: Path, cwd: Path, env: dict, log: Path, timeout: float) -> dict:
    """`retrace-tui inspect REC --at end`: the engine must follow the run to its end without a
    divergence (see judge_inspect)."""
    status, elapsed, out, err = run([tui, "inspect", str(recording), "--at", "end"], cwd=cwd, env=env, log=log,
                                    timeout=timeout)
    reached, problem, position = judge_inspect(status, out, err, timeout)
    return {"reached_end": reached, "inspect_status": status, "inspect_s": round(elapsed, 1),
            "inspect_problem": problem, "inspect_position": position}


def check(package: dict, work: Path, retrace: str, options) -> dict:
    """Plain, recorded, verify and inspect --at end for one package; the row of the table."""
    name = package["name"]
    source, environment = prepare(package, work, retrace, options.editable, options.reuse)
    python, tui = str(environment / "bin" / "python"), str(environment / "bin" / "retrace-tui")
    recording = work / "recordings" / f"{name}.retrace"
    logs = work / "logs" / name
    env = suite_environment()
    # Plain and recorded in turn, --repeat times: the times are the least of each (the machine
    # is shared, so the least is the closest to the cost itself); the counts and the recording
    # are the last pair's, and a count that changes between repeats is reported.
    plain_times, record_times, plain_cpu, record_cpu, seen = [], [], [], [], set()
    for _ in range(max(1, options.repeat)):
        plain = run([python, *package.get("python", []), *PYTEST, *package["args"]], cwd=source, env=env, log=logs / "plain")
        plain_cpu.append(CPU["last"])
        recorded = run([tui, "record", "-o", str(recording), "--", *package.get("python", []), *PYTEST, *package["args"]], cwd=source,
                       env=env, log=logs / "record")
        record_cpu.append(CPU["last"])
        plain_times.append(plain[1])
        record_times.append(recorded[1])
        seen.add(("plain", shown(counts(plain[2]))))
        seen.add(("recorded", shown(counts(recorded[2]))))
    plain = (plain[0], min(plain_times), plain[2], plain[3])
    recorded = (recorded[0], min(record_times), recorded[2], recorded[3])
    verified = run([tui, "verify", "--json", str(recording)], cwd=source, env=env, log=logs / "verify")
    try:
        verdict = json.loads(verified[2])
    except ValueError:
        verdict = {"matched": False, "divergence": {"message": verified[3].strip()[-300:] or "no verdict"}}
    inspected = ({"reached_end": None, "inspect_problem": "not run", "inspect_s": None}
                 if options.no_inspect else
                 inspect_end(tui, recording, source, env, logs / "inspect", options.inspect_timeout))
    used, threads, unreadable = touches(tui, recording)
    warnings = [line for line in recorded[3].splitlines() if line.startswith(("retrace:", "retrace-tui:"))]
    row = {"name": name, "version": package["version"], "args": package["args"],
           "plain": counts(plain[2]), "plain_status": plain[0], "plain_s": round(plain[1], 1),
           "recorded": counts(recorded[2]), "recorded_status": recorded[0], "record_s": round(recorded[1], 1),
           "overhead": round(recorded[1] / plain[1], 2) if plain[1] > 0 else None,
           "plain_cpu_s": round(min(plain_cpu), 1), "record_cpu_s": round(min(record_cpu), 1),
           "cpu_overhead": round(min(record_cpu) / min(plain_cpu), 2) if min(plain_cpu) > 0 else None,
           "matched": bool(verdict.get("matched")), "events": verdict.get("events"),
           "verify_status": verified[0], "verify_s": round(verified[1], 1),
           "divergence": (verdict.get("divergence") or {}).get("message"), "warnings": warnings,
           "touches": {k: v for k, v in used.items() if v}, "threads": threads, "events_error": unreadable,
           "runs": len(plain_times), "flaky_counts": sorted({c for kind, c in seen
                                                              if sum(k == kind for k, _ in seen) > 1}),
           **inspected}
    row["same"] = bool(row["plain"]) and row["plain"] == row["recorded"] and plain[0] == recorded[0]
    results = work / "results"
    results.mkdir(exist_ok=True)
    (results / f"{name}.json").write_text(json.dumps(row, indent=1))
    return row


def measure_overhead(package: dict, work: Path, repeat: int) -> dict | None:
    """Plain and recorded in turn, ``repeat`` times each, in the venv made before; the least
    wall and CPU times of each, written into the package's saved results."""
    results = work / "results" / f"{package['name']}.json"
    environment = work / "venvs" / package["name"]
    if not results.exists() or not (environment / "bin" / "retrace-tui").exists():
        return None
    row = json.loads(results.read_text())
    stem = re.compile(rf"{re.sub(r'[-_.]+', '[-_.]', package['name'])}-{re.escape(package['version'])}$", re.I)
    source = next(p for p in (work / "src").iterdir() if stem.match(p.name))
    python, tui = str(environment / "bin" / "python"), str(environment / "bin" / "retrace-tui")
    env = suite_environment()
    scratch = work / "recordings" / f"{package['name']}-timing.retrace"
    wall, cpu = {"plain": [], "record": []}, {"plain": [], "record": []}
    for _ in range(repeat):
        plain = run([python, *package.get("python", []), *PYTEST, *package["args"]], cwd=source, env=env)
        wall["plain"].append(plain[1]), cpu["plain"].append(CPU["last"])
        recorded = run([tui, "record", "-o", str(scratch), "--", *package.get("python", []), *PYTEST, *package["args"]], cwd=source, env=env)
        wall["record"].append(recorded[1]), cpu["record"].append(CPU["last"])
    shutil.rmtree(str(scratch) + ".d", ignore_errors=True)
    scratch.unlink(missing_ok=True)
    row.update({"plain_s": round(min(wall["plain"]), 1), "record_s": round(min(wall["record"]), 1),
                "overhead": round(min(wall["record"]) / min(wall["plain"]), 2),
                "plain_cpu_s": round(min(cpu["plain"]), 1), "record_cpu_s": round(min(cpu["record"]), 1),
                "cpu_overhead": round(min(cpu["record"]) / min(cpu["plain"]), 2), "runs": repeat})
    results.write_text(json.dumps(row, indent=1))
    return row


def median(values: list[float]) -> float | None:
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else round((values[middle - 1] + values[middle]) / 2, 3)


def end_verdict(row: dict) -> str:
    if row.get("reached_end") is None:
        return "-"
    return "end" if row["reached_end"] else "NOT END"


def summary(rows: list[dict]) -> list[str]:
    total = len(rows)
    middle = median([row["overhead"] for row in rows if row.get("overhead")])
    cpu = median([row["cpu_overhead"] for row in rows if row.get("cpu_overhead")])
    return [f"results unchanged {sum(bool(r['same']) for r in rows)}/{total}",
            f"verify exact {sum(bool(r['matched']) for r in rows)}/{total}",
            f"engine to the end {sum(bool(r.get('reached_end')) for r in rows)}/{total}",
            f"median overhead {middle:.2f}x wall" if middle else "median overhead -",
            f"{cpu:.2f}x CPU" if cpu else "CPU -"]


def print_table(rows: list[dict]) -> None:
    header = (f"{'package':<24}{'plain':<22}{'recorded':<22}{'same':<6}{'verify':<10}{'at end':<9}"
              f"{'wall/cpu':<12}{'times plain/rec/verify/inspect':<30}")
    print(header)
    print("-" * len(header))
    for row in rows:
        times = f"{row['plain_s']}/{row['record_s']}/{row['verify_s']}/{row.get('inspect_s')}s"
        overhead = f"{row['overhead']:.2f}x" if row.get("overhead") else "-"
        if row.get("cpu_overhead"):
            overhead += f"/{row['cpu_overhead']:.2f}"
        print(f"{row['name'] + ' ' + row['version']:<24}{shown(row['plain']):<22}{shown(row['recorded']):<22}"
              f"{'yes' if row['same'] else 'NO':<6}{'matched' if row['matched'] else 'DIVERGED':<10}"
              f"{end_verdict(row):<9}{overhead:<12}{times:<30}")
    print("; ".join(summary(rows)))


def markdown(rows: list[dict]) -> str:
    """The results as the Markdown table of docs/compatibility.md."""
    lines = ["| package | version | plain | recorded | same | verify | inspect --at end | overhead wall / CPU | "
             "times (s) plain / rec / verify / inspect |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        verify = (f"matched, {row['events']:,} events" if row["matched"] and row.get("events")
                  else "matched" if row["matched"] else f"**diverged**: {row['divergence'] or '?'}")
        position = re.search(r"event (\d+) of (\d+)", row.get("inspect_position") or "")
        short = (f" (event {int(position.group(1)):,} of {int(position.group(2)):,})"
                 if position and position.group(1) != position.group(2) else "")
        at_end = (f"reached the end{short}" if row.get("reached_end") else
                  "-" if row.get("reached_end") is None else f"**no**: {row.get('inspect_problem')}")
        overhead = f"{row['overhead']:.2f}x" if row.get("overhead") else "-"
        overhead += f" / {row['cpu_overhead']:.2f}x" if row.get("cpu_overhead") else ""
        lines.append(f"| {row['name']} | {row['version']} | {shown(row['plain'])} | {shown(row['recorded'])} | "
                     f"{'yes' if row['same'] else '**no**'} | {verify.replace('|', '/')} | "
                     f"{at_end.replace('|', '/')} | {overhead} | {row['plain_s']} / {row['record_s']} / "
                     f"{row['verify_s']} / {row.get('inspect_s')} |")
    return "\n".join(lines) + "\n\n" + "; ".join(summary(rows)) + ".\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="/tmp/retrace-compat", help="scratch folder (default %(default)s)")
    parser.add_argument("--only", help="comma-separated package names")
    parser.add_argument("--editable", action="store_true", help="install this checkout editable")
    parser.add_argument("--ref", help="install retrace-tui from this commit of the checkout (git archive)")
    parser.add_argument("--wheel", help="install retrace-tui from this wheel (built before, e.g. by an earlier run)")
    parser.add_argument("--reuse", action="store_true", help="keep venvs that already exist")
    parser.add_argument("--prepare-only", action="store_true", help="only download, unpack and make the venvs")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run plain and recorded this many times each, in turn; times are the least")
    parser.add_argument("--overhead-only", action="store_true",
                        help="only time plain and recorded again (--repeat times each, in turn) in the venvs made "
                             "before, and update the saved results")
    parser.add_argument("--no-inspect", action="store_true", help="leave out `inspect --at end`")
    parser.add_argument("--inspect-timeout", type=float, default=1800, help="seconds (default %(default)s)")
    parser.add_argument("--table", action="store_true",
                        help="print the table (and its Markdown) from the results saved under --work, run nothing")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--repros", action="store_true",
                        help="only record and verify the minimal programs in tests/compat/repros")
    options = parser.parse_args()
    if sys.version_info[:2] != (3, 11):
        print(f"note: the documented results were made with Python 3.11; this is {sys.version.split()[0]}")
    work = Path(options.work).resolve()
    if work == REPO or REPO in work.parents:
        raise SystemExit("--work must be outside the checkout")
    work.mkdir(parents=True, exist_ok=True)
    chosen = [p for p in PACKAGES if not options.only or p["name"] in options.only.split(",")]
    if options.table:
        rows = [json.loads((work / "results" / f"{p['name']}.json").read_text()) for p in chosen
                if (work / "results" / f"{p['name']}.json").exists()]
        for row in rows:  # judged again from the logs, in case the judgement changed since
            logs = work / "logs" / row["name"]
            if row.get("inspect_status") is not None and (logs / "inspect.out").exists():
                row["reached_end"], row["inspect_problem"], row["inspect_position"] = judge_inspect(
                    row["inspect_status"], (logs / "inspect.out").read_text(), (logs / "inspect.err").read_text(),
                    options.inspect_timeout)
        print_table(rows)
        print()
        print(markdown(rows))
        return 0
    if options.overhead_only:
        for package in chosen:
            row = measure_overhead(package, work, max(1, options.repeat))
            if row:
                print(f"{package['name']:<20} wall {row['plain_s']}s -> {row['record_s']}s ({row['overhead']:.2f}x), "
                      f"CPU {row['plain_cpu_s']}s -> {row['record_cpu_s']}s ({row['cpu_overhead']:.2f}x)", flush=True)
        return 0
    if options.wheel:
        retrace = str(Path(options.wheel).resolve())
    else:
        retrace = str(REPO) if options.editable else str(retrace_wheel(work, options.ref))
    if options.repros:
        return run_repros(work, retrace, options.editable)
    revision = subprocess.run(["git", "rev-parse", "--short", options.ref or "HEAD"], cwd=REPO, capture_output=True,
                              text=True).stdout.strip()
    print(f"retrace-tui from {'the checkout, editable' if options.editable else options.wheel or options.ref or 'the work tree'}"
          f" (HEAD {revision}); Python {sys.version.split()[0]}", flush=True)
    if options.prepare_only:
        for package in chosen:
            print(f"== {package['name']} {package['version']}", flush=True)
            try:
                prepare(package, work, retrace, options.editable, options.reuse)
            except SystemExit as exc:  # one package that cannot be built does not stop the others
                print(f"   could not prepare: {exc}", flush=True)
        return 0
    rows = []
    for package in chosen:
        print(f"== {package['name']} {package['version']}", flush=True)
        row = check(package, work, retrace, options)
        rows.append(row)
        overhead = f"{row['overhead']:.2f}x" if row.get("overhead") else "-"
        print(f"   plain {shown(row['plain'])} ({row['plain_s']}s) | recorded {shown(row['recorded'])} "
              f"({row['record_s']}s, {overhead}) | verify {'matched' if row['matched'] else 'DIVERGED'} "
              f"({row['verify_s']}s) | inspect --at end: {end_verdict(row)} ({row.get('inspect_s')}s)", flush=True)
        print(f"   events: {', '.join(f'{k} {v}' for k, v in row['touches'].items()) or '-'}; "
              f"threads {row['threads']}" + (f"; events unreadable: {row['events_error']}" if row['events_error'] else ""))
        for line in row["warnings"]:
            print(f"   {line}")
        if row["divergence"]:
            print(f"   divergence: {row['divergence']}")
        if row.get("inspect_problem") and row.get("reached_end") is False:
            print(f"   inspect --at end: {row['inspect_problem']}")
    print()
    print_table(rows)
    if options.json:
        Path(options.json).write_text(json.dumps(rows, indent=1))
    print(f"\nlogs: {work / 'logs'}; recordings: {work / 'recordings'}; results: {work / 'results'}")
    return 0 if all(row["same"] and row["matched"] and row.get("reached_end") is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
