"""Shared fixtures: run the real `retrace-tui` CLI on real small programs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from retrace_core.tape.reader import Tape
from retrace_core.tape.recording import Recording


@dataclass
class Run:
    """What a user sees from one command: exit status and both streams."""

    status: int
    stdout: str
    stderr: str


@dataclass
class Recorded(Run):
    """A finished `retrace-tui record` run and the recording it wrote."""

    path: Path

    def tape(self, pid: int | None = None) -> Tape:
        with Recording(str(self.path)) as recording:
            return recording.tape(pid)

    def recording(self) -> Recording:
        return Recording(str(self.path))


def calls(tape: Tape, function: str) -> list:
    """The events of one function, in order."""
    return [event for event in tape.events if event.function == function]


def printed(run: Run, literal: bool = True) -> dict:
    """The program's `name value` lines, as {name: value} (the value read as a literal)."""
    from ast import literal_eval

    lines = {}
    for line in run.stdout.splitlines():
        name, _, rest = line.partition(" ")
        lines[name] = literal_eval(rest) if literal else rest
    return lines


def clean_environment(extra: dict | None = None) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("RETRACE", "_RETRACE"))}
    environment.pop("PYTHONUNBUFFERED", None)
    environment.update(extra or {})
    return environment


def cli(*arguments: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120,
        input: str | None = None) -> Run:
    """Run `python -m retrace_tui ARGUMENTS` as a user would."""
    completed = subprocess.run([sys.executable, "-m", "retrace_tui", *arguments], cwd=cwd,
                               env=clean_environment(env), capture_output=True, text=True,
                               timeout=timeout, input=input)
    return Run(completed.returncode, completed.stdout, completed.stderr)


def recorded_folder(folder: Path, program: str, files: dict[str, str] | None = None) -> Path:
    """``program`` (and ``files``) written into ``folder`` and recorded there, exiting 0, as
    ``folder/run.retrace``: the recording a module's tests share (a module-scoped fixture)."""
    (folder / "program.py").write_text(program)
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    run = cli("record", "-o", str(folder / "run.retrace"), "--", "program.py", cwd=folder)
    assert run.status == 0, run.stderr
    return folder


@pytest.fixture
def write_program(tmp_path):
    """Write a dedented program into tmp_path and return its path."""

    def write(source: str, name: str = "program.py") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return path

    return write


def verify(path: Path) -> Run:
    return cli("verify", str(path), "--json")


# Two named worker threads that loop, sleep and hand results back through a queue: the
# engine's and the app's thread tests stop in them.
TWO_WORKERS = """\
import queue, threading, time

results = queue.Queue()

def worker(factor):
    total = 0
    for step in range(3):
        total += step * factor
        time.sleep(0.001)
    results.put(total)

threads = [threading.Thread(target=worker, args=(factor,), name=f"worker-{factor}") for factor in (1, 2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(sorted([results.get(), results.get()]))
"""


SOAK = "RETRACE_SOAK"  # how often soak loops repeat: 3 by default, 20 in a nightly run


def soak_times(times: int) -> int:
    """The repeat count of a soak loop that asks for ``times``: loops of up to three run
    as asked; longer ones run ``$RETRACE_SOAK`` times (3 unless set; set 20 nightly)."""
    if times <= 3:
        return times
    return min(times, max(1, int(os.environ.get(SOAK) or 3)))


def record_and_verify(record, times: int, program: str = "program.py") -> Recorded:
    """Record ``program`` ``times`` times (see :func:`soak_times`), verifying each recording
    at once; the last run. A recording that replays only when the timing is lucky fails
    somewhere in the loop."""
    times = soak_times(times)
    for attempt in range(times):
        run = record(program, name=f"run-{attempt}.retrace", verify_after=False)
        assert run.status == 0, f"recording {attempt + 1} of {times} failed:\n{run.stderr}"
        verdict = verify(run.path)
        assert verdict.status == 0, f"recording {attempt + 1} of {times} did not replay exactly:\n{verdict.stdout}"
        assert json.loads(verdict.stdout)["matched"]
    return run


def assert_replay_prints_what_the_recording_printed(run: Recorded) -> None:
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (run.status, run.stdout)


@pytest.fixture
def record(tmp_path):
    """record(ARGS..., env=...) runs `retrace-tui record -o REC -- ARGS` in tmp_path.

    Every complete recording a test makes must also replay exactly: after the test, each
    one is verified (`retrace-tui verify`), and a divergence fails the test.
    """
    made: list[Path] = []

    def run(*program: str, env: dict | None = None, name: str = "run.retrace", cwd: Path | None = None,
            timeout: float = 120, extra: tuple[str, ...] = (), verify_after: bool = True,
            input: str | None = None) -> Recorded:
        path = tmp_path / name
        result = cli("record", "-o", str(path), *extra, "--", *program, cwd=cwd or tmp_path, env=env,
                     timeout=timeout, input=input)
        if verify_after:
            made.append(path)
        return Recorded(result.status, result.stdout, result.stderr, path)

    yield run
    for path in made:
        if not path.is_file():
            continue
        with Recording(str(path)) as recording:
            complete = recording.index.get("complete")
        if complete:
            verdict = verify(path)
            assert verdict.status == 0, f"{path.name} did not replay exactly:\n{verdict.stdout}{verdict.stderr}"


def record_with_stdout(tmp_path: Path, program: str, stdout: str, name: str = "run.retrace",
                       env: dict | None = None) -> Recorded:
    """`retrace-tui record -o REC -- PROGRAM` with the program's stdout a ``"pipe"``, a
    ``"file"`` or a ``"terminal"`` (a pseudo-terminal): Python buffers its output
    differently for each, so the same run writes in other pieces at other moments."""
    path = tmp_path / name
    command = [sys.executable, "-m", "retrace_tui", "record", "-o", str(path), "--", program]
    environment = clean_environment(env)
    if stdout == "pipe":
        completed = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True,
                                   timeout=120)
        return Recorded(completed.returncode, completed.stdout, completed.stderr, path)
    if stdout == "file":
        with open(tmp_path / "stdout.txt", "w+") as output:
            completed = subprocess.run(command, cwd=tmp_path, env=environment, stdout=output,
                                       stderr=subprocess.PIPE, text=True, timeout=120)
            output.seek(0)
            return Recorded(completed.returncode, output.read(), completed.stderr, path)
    assert stdout == "terminal", stdout
    import pty

    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, cwd=tmp_path, env=environment, stdin=terminal, stdout=terminal,
                               stderr=subprocess.PIPE, text=True)
    os.close(terminal)
    received = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: every copy of the terminal's other side is closed
            break
        if not chunk:
            break
        received += chunk
    os.close(controller)
    stderr = process.stderr.read()
    process.wait(timeout=120)
    return Recorded(process.returncode, received.decode().replace("\r\n", "\n"), stderr, path)


@pytest.fixture(autouse=True)
def own_tui_config(tmp_path, monkeypatch):
    """The app remembers its theme in a config file: in tests, never the user's own."""
    monkeypatch.setenv("RETRACE_TUI_CONFIG", str(tmp_path / "tui-config" / "config.toml"))


@pytest.fixture(scope="session")
def quickstart_recording(tmp_path_factory) -> Path:
    """The quickstart's pytest run (one test fails), recorded once for the session."""
    import shutil

    project = tmp_path_factory.mktemp("quickstart") / "quickstart"
    shutil.copytree(Path(__file__).resolve().parent.parent / "quickstart", project,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    recording = project / "pytest.retrace"
    run = cli("record", "-o", str(recording), "--", "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider",
              cwd=project)
    assert run.status == 1 and recording.is_file(), run.stdout + run.stderr
    return recording


@pytest.fixture(scope="session")
def isolated_python(tmp_path_factory):
    """A Python of its own for tests that install the hook (`retrace-tui install`): installed
    into the test run's own Python, every process other tests start meanwhile would see it."""
    folder = tmp_path_factory.mktemp("hook-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # Sorted before retrace_tui_hook.pth: our packages are importable when the hook runs.
    (folder / purelib / "_retrace_test_site.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    return str(python)
