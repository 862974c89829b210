"""`retrace-tui install`: any Python process started with RETRACE_RECORDING=REC is recorded."""
import subprocess
import sys

import pytest

from conftest import clean_environment, cli


@pytest.fixture
def hook():
    installed = cli("install")
    assert installed.status == 0, installed.stderr
    try:
        yield
    finally:
        assert cli("uninstall").status == 0


def python(*arguments, cwd, env=None):
    return subprocess.run([sys.executable, *arguments], cwd=cwd, capture_output=True, text=True,
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
    run = python("-X", "utf8", "program.py", cwd=tmp_path, env={"RETRACE_RECORDING": "hooked.retrace"})
    assert run.returncode == 5, run.stderr
    assert run.stderr == ""
    recording = tmp_path / "hooked.retrace"
    assert recording.is_file()
    pids = cli("pids", str(recording), "--json")
    import json
    processes = json.loads(pids.stdout)
    assert len(processes) == 2
    root, child = processes
    assert root["exit_status"] == 5 and root["parent"] is None
    assert child["parent"] == root["pid"] and child["exit_status"] == 0
    events = cli("events", str(recording), "--pid", str(child["pid"]))
    child_time = run.stdout.split("child said child ")[1].split()[0]
    assert f"time.time() -> {child_time}" in events.stdout
    # The interpreter options survived the re-exec, and the hash seed was fixed and stored.
    with __import__("retrace_core.tape.recording").tape.recording.Recording(str(recording)) as opened:
        index = opened.index
        assert opened.tape().process["interpreter_options"] == ["-X", "utf8"]
    seeded = python("-c", "print(hash('seeded'))", cwd=tmp_path, env={"PYTHONHASHSEED": index["hash_seed"]})
    assert run.stdout.split()[2] == seeded.stdout.strip()


def test_without_the_variable_nothing_is_recorded(hook, tmp_path, write_program):
    write_program("print('plain')")
    run = python("program.py", cwd=tmp_path)
    assert (run.returncode, run.stdout, run.stderr) == (0, "plain\n", "")
    assert not list(tmp_path.glob("*.retrace*"))


def test_uninstall_removes_the_hook(tmp_path, write_program):
    assert cli("install").status == 0
    assert cli("uninstall").status == 0
    write_program("print('plain')")
    run = python("program.py", cwd=tmp_path, env={"RETRACE_RECORDING": "x.retrace"})
    assert run.stdout == "plain\n"
    assert not (tmp_path / "x.retrace").exists()
