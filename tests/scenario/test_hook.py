"""`retrace-tui install`: any Python process started with RETRACE_RECORDING=REC is recorded.

The hook goes into the site-packages of the Python that runs `install`. Not the test run's
own: every process started from it while a test here runs (other tests' recordings and
replays, in parallel) would see the hook, and a replay started then differs from a
recording made before (its modules differ). So these tests install it into a virtual
environment of their own, which reaches our packages through a `.pth` of its own.
"""
import subprocess
from pathlib import Path

import pytest

from conftest import Run, clean_environment


def cli(python, *arguments: str) -> Run:
    completed = subprocess.run([python, "-m", "retrace_tui", *arguments], env=clean_environment(None),
                               capture_output=True, text=True, timeout=120)
    return Run(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def hook(isolated_python):
    installed = cli(isolated_python, "install")
    assert installed.status == 0, installed.stderr
    try:
        yield isolated_python
    finally:
        assert cli(isolated_python, "uninstall").status == 0


def python(interpreter, *arguments, cwd, env=None):
    return subprocess.run([interpreter, *arguments], cwd=cwd, capture_output=True, text=True,
                          env=clean_environment(env), timeout=120)


def test_hook_records_a_plain_python_command_and_its_python_children(hook, tmp_path, write_program):
    write_program("""
        import subprocess, sys, time
        print("parent", time.time(), hash("seeded"))
        child = subprocess.run([sys.executable, "child.py"], capture_output=True, text=True)
        print("child said", child.stdout.strip())
        sys.exit(5)
    """)
    write_program("import time; print('child', time.time())", name="child.py")
    run = python(hook, "-X", "utf8", "program.py", cwd=tmp_path, env={"RETRACE_RECORDING": "hooked.retrace"})
    assert run.returncode == 5, run.stderr
    assert run.stderr == ""
    recording = tmp_path / "hooked.retrace"
    assert recording.is_file()
    pids = cli(hook, "pids", str(recording), "--json")
    import json
    processes = json.loads(pids.stdout)
    assert len(processes) == 2
    root, child = processes
    assert root["exit_status"] == 5 and root["parent"] is None
    assert child["parent"] == root["pid"] and child["exit_status"] == 0
    events = cli(hook, "events", str(recording), "--pid", str(child["pid"]))
    child_time = run.stdout.split("child said child ")[1].split()[0]
    assert f"time.time() -> {child_time}" in events.stdout
    # The interpreter options survived the re-exec, and the hash seed was fixed and stored.
    with __import__("retrace_core.tape.recording").tape.recording.Recording(str(recording)) as opened:
        index = opened.index
        assert opened.tape().process["interpreter_options"] == ["-X", "utf8"]
    seeded = python(hook, "-c", "print(hash('seeded'))", cwd=tmp_path, env={"PYTHONHASHSEED": index["hash_seed"]})
    assert run.stdout.split()[2] == seeded.stdout.strip()


def test_without_the_variable_nothing_is_recorded(hook, tmp_path, write_program):
    write_program("print('plain')")
    run = python(hook, "program.py", cwd=tmp_path)
    assert (run.returncode, run.stdout, run.stderr) == (0, "plain\n", "")
    assert not list(tmp_path.glob("*.retrace*"))


def test_uninstall_removes_the_hook(isolated_python, tmp_path, write_program):
    assert cli(isolated_python, "install").status == 0
    assert cli(isolated_python, "uninstall").status == 0
    write_program("print('plain')")
    run = python(isolated_python, "program.py", cwd=tmp_path, env={"RETRACE_RECORDING": "x.retrace"})
    assert run.stdout == "plain\n"
    assert not (tmp_path / "x.retrace").exists()


OLDER_PTH_LINE = ("import os; os.environ.get('RETRACE_RECORDING') and "
                  "__import__('retrace_core.bootstrap.hook').bootstrap.hook.activate()\n")


@pytest.mark.parametrize("older", [False, True], ids=["this hook", "an older install's line"])
def test_a_recording_made_with_the_hook_installed_replays_exactly_without_it(isolated_python, tmp_path,
                                                                           write_program, older):
    """Found in CI: `retrace-tui record` marks the process it starts for recording, so an
    installed hook imported itself there (and returned), and the recording's ``sys.modules``
    held a module of ours a replay without the hook did not: ``inspect.getmodule``, which
    stats every module's file, stat'ed one more file recorded than replayed."""
    write_program("""
        import inspect
        print(inspect.getmodule(compile("1", "nowhere.py", "eval")))
    """)
    assert cli(isolated_python, "install").status == 0
    if older:  # the line of an install made before this one: it imports the hook every time
        pth = python(isolated_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
        (Path(pth.stdout.strip()) / "retrace_tui_hook.pth").write_text(OLDER_PTH_LINE)
    try:
        recorded = python(isolated_python, "-m", "retrace_tui", "record", "-o", "run.retrace", "--", "program.py",
                          cwd=tmp_path)
    finally:
        assert cli(isolated_python, "uninstall").status == 0
    assert recorded.returncode == 0, recorded.stderr
    verified = python(isolated_python, "-m", "retrace_tui", "verify", "run.retrace", cwd=tmp_path)
    assert verified.returncode == 0 and "matched" in verified.stdout, verified.stdout + verified.stderr
