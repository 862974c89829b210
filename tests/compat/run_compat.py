#!/usr/bin/env python3
"""Record and verify the test suites of real PyPI packages (see docs/compatibility.md).

    python3.11 tests/compat/run_compat.py [--work DIR] [--only NAME,...] [--editable] [--reuse]

For each package below: download its sdist from PyPI (``pip download --no-binary :all:``),
unpack it, make a venv with retrace-tui, the package (built from that sdist) and its test
dependencies, then run its suite three ways:

  plain     python -m pytest -q -p no:cacheprovider ARGS
  recorded  retrace-tui record -o NAME.retrace -- -m pytest -q -p no:cacheprovider ARGS
  verify    retrace-tui verify --json NAME.retrace

and print a table: pytest's counts plain and recorded, the verdict of verify, the wall
time of each run, and the recorder's warnings. Everything lives under ``--work``
(default /tmp/retrace-compat); nothing is written into this checkout. retrace-tui is
installed from a copy of this checkout's files (git ls-files), or editable with
``--editable``. Exit status 0 when every suite gave the same counts recorded as plain
and every verify matched, 1 otherwise.

Not a pytest test (nothing here is collected) and not run in CI: it needs PyPI and
takes several minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTEST = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]

# name: PyPI name and pinned version; deps: test dependencies; args: what follows the pytest
# options (a subset where the whole suite is slow or needs more than localhost); touches: the
# boundary categories the suite exercises (checked by reading the recording's events).
PACKAGES = [
    {"name": "cachetools", "version": "8.0.2", "deps": ["pytest"], "args": ["tests"]},
    {"name": "humanize", "version": "4.17.0", "deps": ["pytest>=9", "freezegun", "pytest-benchmark"],
     "args": ["tests"]},
    {"name": "pluggy", "version": "1.7.0", "deps": ["pytest"], "args": ["testing"]},
    {"name": "packaging", "version": "26.4", "deps": ["pytest", "pretend", "hypothesis", "tomli_w"],
     "args": ["tests"]},
    {"name": "attrs", "version": "26.1.0", "deps": ["pytest", "hypothesis", "pympler", "cloudpickle"],
     "args": ["tests"]},
    {"name": "portend", "version": "3.2.1", "deps": ["pytest"], "args": ["test_portend.py"]},
    {"name": "requests", "version": "2.34.2", "deps": ["pytest"],
     # test_use_proxy_from_environment needs pytest-httpbin's fixture: deselected
     "args": ["tests/test_lowlevel.py", "tests/test_testserver.py", "-k", "not test_use_proxy_from_environment"]},
    {"name": "setuptools-scm", "version": "10.3.4",
     "deps": ["pytest", "pytest-timeout", "build", "rich", "typing-extensions"],
     # the git-driven files; test_integration.py builds wheels and runs `pip download` (PyPI)
     "args": ["testing_scm/test_setuptools_git.py", "testing_scm/test_file_finders.py",
              "testing_scm/test_basic_api.py", "testing_scm/test_regressions.py"]},
]

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


def run(command, cwd=None, env=None, log: Path | None = None, timeout: float = 900) -> tuple[int, float, str, str]:
    start = time.monotonic()
    # A session of its own: on a timeout the whole tree goes (the recorded program is a
    # grandchild, and it holds the pipes).
    process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
        status = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        status, err = -9, err + b"\n[timed out]\n"
    elapsed = time.monotonic() - start
    out_text, err_text = out.decode(errors="replace"), err.decode(errors="replace")
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.with_suffix(".out").write_text(out_text)
        log.with_suffix(".err").write_text(err_text)
    return status, elapsed, out_text, err_text


def checked(command, **kwargs) -> str:
    status, _elapsed, out, err = run(command, **kwargs)
    if status != 0:
        raise SystemExit(f"failed ({status}): {' '.join(map(str, command))}\n{out[-2000:]}\n{err[-2000:]}")
    return out


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


def retrace_copy(work: Path, ref: str | None = None) -> Path:
    """This checkout's files (tracked and untracked, not ignored) copied under ``work``;
    with ``ref``, that commit's files instead."""
    target = work / "retrace-src"
    shutil.rmtree(target, ignore_errors=True)
    if ref is not None:
        target.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "x", "-C", str(target)], input=archive, check=True)
        return target
    files = checked(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO).splitlines()
    for name in files:
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def retrace_wheel(work: Path, ref: str | None = None) -> Path:
    wheels = work / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    checked([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(retrace_copy(work, ref))])
    return next(wheels.glob("retrace_tui-*.whl"))


def sdist(package: dict, work: Path) -> Path:
    """Download and unpack the package's sdist; returns the unpacked folder."""
    folder = work / "sdists"
    folder.mkdir(parents=True, exist_ok=True)
    spec = f"{package['name']}=={package['version']}"
    checked([sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps", spec,
             "-d", str(folder)])
    stem = re.sub(r"[-_.]+", "[-_.]", package["name"])
    pattern = re.compile(rf"{stem}-{re.escape(package['version'])}\.(tar\.gz|zip)$", re.IGNORECASE)
    archive = next(p for p in folder.iterdir() if pattern.match(p.name))
    unpacked = work / "src"
    unpacked.mkdir(exist_ok=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as handle:
            top = handle.namelist()[0].split("/")[0]
            if not (unpacked / top).exists():
                handle.extractall(unpacked)
    else:
        with tarfile.open(archive) as handle:
            top = handle.getnames()[0].split("/")[0]
            if not (unpacked / top).exists():
                handle.extractall(unpacked, filter="data")
    return unpacked / top


def prepare(package: dict, work: Path, retrace: str, editable: bool, reuse: bool) -> tuple[Path, Path]:
    source = sdist(package, work)
    environment = work / "venvs" / package["name"]
    python = environment / "bin" / "python"
    if reuse and python.exists():
        return source, environment
    shutil.rmtree(environment, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(environment)
    install = [str(python), "-m", "pip", "install", "-q"]
    checked([*install, *(["-e", retrace] if editable else [retrace])])
    checked([*install, str(source), *package["deps"]])
    return source, environment


def run_repros(work: Path, retrace: str, editable: bool) -> int:
    """Record and verify each minimal program of tests/compat/repros (the known limitations)."""
    environment = work / "venvs" / "_repros"
    if not (environment / "bin" / "python").exists():
        venv.EnvBuilder(with_pip=True).create(environment)
    checked([str(environment / "bin" / "python"), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps",
             *(["-e", retrace] if editable else [retrace])])
    checked([str(environment / "bin" / "python"), "-m", "pip", "install", "-q", *(["-e", retrace] if editable
                                                                                 else [retrace])])
    tui = str(environment / "bin" / "retrace-tui")
    folder = Path(__file__).resolve().parent / "repros"
    for script in sorted(folder.glob("*.py")):
        if script.name == "repro_helper.py":
            continue
        recording = work / "recordings" / f"repro-{script.stem}.retrace"
        recorded = run([tui, "record", "-o", str(recording), "--", str(script)], cwd=str(folder), timeout=60)
        if recorded[0] == -9:
            print(f"{script.name:<26} record HUNG (killed after 60 s)")
            continue
        verified = run([tui, "verify", str(recording)], cwd=str(folder), timeout=120)
        listed = run([tui, "events", str(recording)], cwd=str(folder), timeout=60)
        verdict = (verified[2] or verified[3]).strip().splitlines()
        print(f"{script.name:<26} record {recorded[0]}  verify {verified[0]}: {verdict[0] if verdict else '?'}")
        if listed[0] != 0:
            print(f"{'':<26} events: {listed[3].strip()}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="/tmp/retrace-compat", help="scratch folder (default %(default)s)")
    parser.add_argument("--only", help="comma-separated package names")
    parser.add_argument("--editable", action="store_true", help="install this checkout editable")
    parser.add_argument("--ref", help="install retrace-tui from this commit of the checkout (git archive)")
    parser.add_argument("--reuse", action="store_true", help="keep venvs that already exist")
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
    if options.repros:
        return run_repros(work, str(REPO) if options.editable else str(retrace_wheel(work, options.ref)),
                          options.editable)
    chosen = [p for p in PACKAGES if not options.only or p["name"] in options.only.split(",")]
    retrace = str(REPO) if options.editable else str(retrace_wheel(work, options.ref))
    revision = subprocess.run(["git", "rev-parse", "--short", options.ref or "HEAD"], cwd=REPO, capture_output=True,
                              text=True).stdout.strip()
    print(f"retrace-tui from {'the checkout, editable' if options.editable else options.ref or 'the work tree'}"
          f" (HEAD {revision}); Python {sys.version.split()[0]}")
    rows = []
    for package in chosen:
        name = package["name"]
        print(f"== {name} {package['version']}", flush=True)
        source, environment = prepare(package, work, retrace, options.editable, options.reuse)
        python, tui = str(environment / "bin" / "python"), str(environment / "bin" / "retrace-tui")
        recording = work / "recordings" / f"{name}.retrace"
        logs = work / "logs" / name
        # The suites' own environment: no proxies (only localhost is used), a fixed TZ-free setup.
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")
               and not k.startswith(("RETRACE_", "_RETRACE_"))}
        plain = run([python, *PYTEST, *package["args"]], cwd=source, env=env, log=logs / "plain")
        recorded = run([tui, "record", "-o", str(recording), "--", *PYTEST, *package["args"]], cwd=source,
                       env=env, log=logs / "record")
        verified = run([tui, "verify", "--json", str(recording)], cwd=source, env=env, log=logs / "verify")
        try:
            verdict = json.loads(verified[2])
        except ValueError:
            verdict = {"matched": False, "divergence": {"message": verified[3].strip()[-300:] or "no verdict"}}
        used, threads, unreadable = touches(tui, recording)
        warnings = [line for line in recorded[3].splitlines() if line.startswith(("retrace:", "retrace-tui:"))]
        row = {"name": name, "version": package["version"], "args": package["args"],
               "plain": counts(plain[2]), "plain_status": plain[0], "plain_s": round(plain[1], 1),
               "recorded": counts(recorded[2]), "recorded_status": recorded[0], "record_s": round(recorded[1], 1),
               "matched": bool(verdict.get("matched")), "events": verdict.get("events"),
               "verify_status": verified[0], "verify_s": round(verified[1], 1),
               "divergence": (verdict.get("divergence") or {}).get("message"), "warnings": warnings,
               "touches": {k: v for k, v in used.items() if v}, "threads": threads, "events_error": unreadable}
        row["same"] = row["plain"] == row["recorded"] and plain[0] == recorded[0]
        rows.append(row)
        print(f"   plain {shown(row['plain'])} ({row['plain_s']}s) | recorded {shown(row['recorded'])} "
              f"({row['record_s']}s) | verify {'matched' if row['matched'] else 'DIVERGED'} "
              f"({row['verify_s']}s)", flush=True)
        print(f"   events: {', '.join(f'{k} {v}' for k, v in row['touches'].items()) or '-'}; "
              f"threads {threads}" + (f"; events unreadable: {unreadable}" if unreadable else ""))
        for line in warnings:
            print(f"   {line}")
        if row["divergence"]:
            print(f"   divergence: {row['divergence']}")
    print()
    header = f"{'package':<24}{'plain':<22}{'recorded':<22}{'same':<6}{'verify':<10}{'times plain/rec/verify':<24}"
    print(header)
    print("-" * len(header))
    for row in rows:
        times = f"{row['plain_s']}/{row['record_s']}/{row['verify_s']}s"
        print(f"{row['name'] + ' ' + row['version']:<24}{shown(row['plain']):<22}{shown(row['recorded']):<22}"
              f"{'yes' if row['same'] else 'NO':<6}{'matched' if row['matched'] else 'DIVERGED':<10}{times:<24}")
    if options.json:
        Path(options.json).write_text(json.dumps(rows, indent=1))
    print(f"\nlogs: {work / 'logs'}; recordings: {work / 'recordings'}")
    return 0 if all(row["same"] and row["matched"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
