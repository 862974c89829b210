"""`record` as a user's shell and CI see it: its files are private, signals sent to it
reach the program, the program does not outlive it, and two runs never silently share
one output."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

from conftest import clean_environment, cli
from retrace_core.tape.recording import Recording

SLOW = """\
import os, signal, sys, time
def stop(signum, frame):
    # os.write: the signal may come while print("started") is still flushing
    os.write(1, f"got {signal.Signals(signum).name}\\n".encode())
    sys.exit(3)
for name in ("SIGTERM", "SIGHUP", "SIGINT"):
    signal.signal(getattr(signal, name), stop)
print("started", flush=True)
time.sleep(30)
"""

STUBBORN = """\
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("started", flush=True)
while True:
    time.sleep(0.05)
"""


def _start_record(tmp_path, name: str, program: str, umask: int | None = None) -> subprocess.Popen:
    (tmp_path / f"{name}.py").write_text(program)
    command = [sys.executable, "-m", "retrace_tui", "record", "-o", f"{name}.retrace", "--", f"{name}.py"]
    process = subprocess.Popen(command, cwd=tmp_path, env=clean_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                               preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)
    assert process.stdout.readline() == "started\n"
    return process


def _program_pid(tmp_path, name: str) -> int:
    return int(next((tmp_path / f"{name}.d").glob("*.bin")).stem)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_packed_file_and_the_tape_folder_are_the_owners_alone(tmp_path):
    (tmp_path / "program.py").write_text("open('data.txt', 'w').write('secret')\nprint(open('data.txt').read())\n")
    for umask, packed in ((0o022, 0o700), (0o077, 0o700), (0o177, 0o600)):
        name = f"run-{umask:o}.retrace"
        completed = subprocess.run([sys.executable, "-m", "retrace_tui", "record", "-o", name, "--",
                                    "program.py"], cwd=tmp_path, env=clean_environment(), capture_output=True,
                                   preexec_fn=lambda: os.umask(umask))
        assert completed.returncode == 0, completed.stderr
        assert _mode(tmp_path / name) == packed
    extracted = cli("extract", "run-22.retrace", "out", cwd=tmp_path)
    assert extracted.status == 0
    assert _mode(tmp_path / "out") == 0o700
    assert {_mode(path) for path in (tmp_path / "out").rglob("*") if path.is_file()} == {0o600}
    assert {_mode(path) for path in (tmp_path / "out").rglob("*") if path.is_dir()} <= {0o700}


def test_a_killed_recordings_tape_folder_is_the_owners_alone(tmp_path):
    process = _start_record(tmp_path, "slow", SLOW, umask=0o022)
    folder = tmp_path / "slow.d"
    assert _mode(folder) == 0o700
    assert {_mode(path) for path in folder.glob("*.bin")} == {0o600}
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)


def test_sigterm_and_sighup_sent_to_record_reach_the_program(tmp_path):
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        name = f"slow-{sig.name}"
        process = _start_record(tmp_path, name, SLOW)
        time.sleep(0.3)  # past print("started"): a signal inside a recorded write is another test
        process.send_signal(sig)
        out, _err = process.communicate(timeout=30)
        assert (out, process.returncode) == (f"got {sig.name}\n", 3), _err
        with Recording(str(tmp_path / f"{name}.retrace")) as recording:
            assert recording.index["complete"] and recording.index["exit_status"] == 3


def test_a_program_does_not_outlive_a_killed_record_and_its_tape_is_kept(tmp_path):
    process = _start_record(tmp_path, "stubborn", STUBBORN)
    pid = _program_pid(tmp_path, "stubborn")
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    deadline = time.monotonic() + 15
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)
    events = cli("events", "stubborn.retrace", cwd=tmp_path)
    assert events.status == 0 and "time.sleep" in events.stdout


def test_a_second_recording_to_the_same_output_refuses_with_one_line(tmp_path):
    first = _start_record(tmp_path, "slow", SLOW)
    second = cli("record", "-o", "slow.retrace", "--", "slow.py", cwd=tmp_path)
    assert second.status == 2 and second.stderr.count("\n") == 1
    assert "being recorded by another retrace-tui" in second.stderr
    first.send_signal(signal.SIGTERM)
    out, _err = first.communicate(timeout=30)
    assert out == "got SIGTERM\n" and first.returncode == 3
    with Recording(str(tmp_path / "slow.retrace")) as recording:
        assert recording.index["complete"]
    assert not (tmp_path / "slow.retrace.lock").exists()
    again = cli("record", "-o", "slow.retrace", "--", "-c", "print(1)", cwd=tmp_path)
    assert again.status == 0, again.stderr


def test_a_stale_lock_of_a_dead_recorder_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "run.retrace.lock").write_text(dead.stdout.strip())
    run = cli("record", "-o", "run.retrace", "--", "-c", "print(1)", cwd=tmp_path)
    assert (run.status, run.stdout) == (0, "1\n")
