"""The recorder never breaks the program it records."""
import os
import signal
import subprocess
import sys
import time

from conftest import clean_environment, cli


def test_killed_process_leaves_a_readable_tape_directory(tmp_path, write_program):
    write_program("""
        import time, sys
        for i in range(3):
            print("tick", time.time(), flush=True)
        time.sleep(60)
    """)
    recording = tmp_path / "killed.retrace"
    process = subprocess.Popen([sys.executable, "-m", "retrace_tui", "record", "-o", str(recording), "--",
                                "program.py"], cwd=tmp_path, env=clean_environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(3):
        process.stdout.readline()
    time.sleep(0.3)  # more than one flush interval
    child = next(int(name[:-4]) for name in os.listdir(tmp_path / "killed.d") if name.endswith(".bin"))
    os.kill(child, signal.SIGKILL)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGKILL
    assert "SIGKILL" in stderr and "Traceback" not in stderr
    assert not recording.exists() and (tmp_path / "killed.d").is_dir()
    events = cli("events", str(recording))
    assert events.status == 0
    assert events.stdout.count("time.time()") == 3
    assert "incomplete" in events.stderr
    pids = cli("pids", str(tmp_path / "killed.d"))
    assert pids.status == 0 and str(child) in pids.stdout


def test_a_tape_that_cannot_be_written_stops_recording_with_one_warning(record, write_program):
    write_program("""
        import resource, signal, time
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        total = 0.0
        for _ in range(20000):
            total += time.time()
        time.sleep(0.3)
        print("finished", total > 0)
    """)
    run = record("program.py")
    assert run.status == 0
    assert run.stdout == "finished True\n"
    warnings = [line for line in run.stderr.splitlines() if line.startswith("retrace:")]
    assert len(warnings) == 1 and "recording stopped" in warnings[0]
    assert "Traceback" not in run.stderr
