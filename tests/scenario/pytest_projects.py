"""Small pytest projects for the scenario tests: writing one, running pytest alone on it,
and checking that a recorded run printed what the plain one did."""
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import Run, clean_environment

QUIET = ("-p", "no:cacheprovider")  # no .pytest_cache in the project


def project(root: Path, files: dict[str, str]) -> Path:
    """Write a small pytest project (its own pytest.ini fixes the rootdir) into ``root``."""
    files = {"pytest.ini": "[pytest]\n", **files}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def line_of(path: Path, code: str) -> int:
    """The number of the line of ``path`` that holds ``code``."""
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if code in line)


def plain_pytest(cwd: Path, *arguments: str, env: dict | None = None) -> Run:
    completed = subprocess.run([sys.executable, "-m", "pytest", *arguments], cwd=cwd,
                               env=clean_environment(env), capture_output=True, text=True, timeout=120)
    return Run(completed.returncode, completed.stdout, completed.stderr)


TIMING = re.compile(r"\bin \d+(?:\.\d+)?s(?: \(\d+:\d\d:\d\d\))?")


def normalised(stdout: str) -> str:
    """pytest's output without its timing: "in 0.12s" (and the ===== padding centring it)."""
    lines = []
    for line in stdout.splitlines():
        if TIMING.search(line):
            line = re.sub(r"=+", "=", TIMING.sub("in T", line))
        lines.append(line)
    return "\n".join(lines)


def pytest_recorded(record, root: Path, *arguments: str, env: dict | None = None, name: str = "run.retrace"):
    """Record `python -m pytest ARGUMENTS` in ``root``, run it once more without the
    recorder, and check the user sees the same thing: the markers change nothing."""
    run = record("-m", "pytest", *arguments, env=env, cwd=root, name=name)
    assert run.path.is_file(), run.stdout + run.stderr
    alone = plain_pytest(root, *arguments, env=env)
    assert run.status == alone.status, run.stdout + run.stderr
    assert normalised(run.stdout) == normalised(alone.stdout)
    assert run.stderr == alone.stderr
    return run


def ran(run) -> list[tuple[str, str]]:
    """(nodeid, outcome) per test, from the markers: each start is followed by its own end."""
    markers = [marker for marker in run.tape().markers if marker[1] != "test-failed"]
    assert [kind for _, kind, _ in markers] == ["test-start", "test-end"] * (len(markers) // 2), markers
    found = []
    for (before, _, start), (after, _, end) in zip(markers[::2], markers[1::2]):
        assert start == {"nodeid": end["nodeid"]} and before <= after
        found.append((end["nodeid"], end["outcome"]))
    return found


def end_marker(run, nodeid: str) -> dict:
    return next(data for _, kind, data in run.tape().markers if kind == "test-end" and data["nodeid"] == nodeid)
