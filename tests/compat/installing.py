"""Running commands with a deadline, and setting up what a suite runs in: retrace-tui
built from this checkout (or a commit), the project's sdist from PyPI, and a venv holding
both and the suite's test dependencies."""
from __future__ import annotations

import os
import re
import resource
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

CPU = {"last": 0.0}  # CPU seconds (user + system) of the last run()'s process tree


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command, cwd=None, env=None, log: Path | None = None, timeout: float = 900) -> tuple[int, float, str, str]:
    """Run a command; its exit status, wall seconds, stdout and stderr. Its CPU seconds (all
    its waited-for descendants: the recorded program is retrace-tui's child) go in CPU["last"]."""
    start = time.monotonic()
    cpu_start = children_cpu()
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
    CPU["last"] = children_cpu() - cpu_start
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
    # --no-binary NAME, not :all:, so that its build backend may come as a wheel
    checked([sys.executable, "-m", "pip", "download", "-q", "--no-binary", package["name"], "--no-deps", spec,
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
        # the venv stays; retrace-tui is the one asked for now
        checked([str(python), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps",
                 *(["-e", retrace] if editable else [retrace])])
        return source, environment
    shutil.rmtree(environment, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(environment)
    install = [str(python), "-m", "pip", "install", "-q"]
    checked([*install, *(["-e", retrace] if editable else [retrace])])
    checked([*install, str(source), *package["deps"]])
    return source, environment
