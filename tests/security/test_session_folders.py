"""Session folders (``/tmp/retrace-session-*``) hold a full copy of the tape: they go
away when `inspect` is terminated and, after a SIGKILL, at the next start."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

from conftest import clean_environment
from retrace_core.control import session_folder

# Slow to replay under the engine, not to record: a replay does not sleep (the earlier
# program slept 400 times and its inspect could end before the signal came), but it
# traces every line of this loop.
SLOW = """\
total = 0
for step in range(3_000_000):
    total += step
print("done", total)
"""


def _folders_of(pid: int) -> list[str]:
    return [name for name in os.listdir(tempfile.gettempdir()) if name.startswith(f"retrace-session-{pid}-")]


def _inspect(tmp_path, record) -> subprocess.Popen:
    (tmp_path / "program.py").write_text(SLOW)
    run = record("program.py")
    assert run.status == 0, run.stderr
    return subprocess.Popen([sys.executable, "-m", "retrace_tui", "inspect", str(run.path), "--at", "end"],
                            env=clean_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for_folder(pid: int) -> None:
    deadline = time.monotonic() + 30
    while not _folders_of(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _folders_of(pid)


def test_sigterm_and_sighup_of_inspect_remove_its_session_folder(tmp_path, record):
    for sig in (signal.SIGTERM, signal.SIGHUP):
        process = _inspect(tmp_path, record)
        _wait_for_folder(process.pid)
        process.send_signal(sig)
        process.communicate(timeout=30)
        assert process.returncode == -sig
        assert _folders_of(process.pid) == []


def test_a_killed_controllers_folder_is_removed_at_the_next_start(tmp_path, record):
    process = _inspect(tmp_path, record)
    _wait_for_folder(process.pid)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert _folders_of(process.pid)
    session_folder.remove(session_folder.create())
    assert _folders_of(process.pid) == []


WRITER = """\
import os, sys, time
folder, stop = sys.argv[1], time.monotonic() + 0.5
open(os.path.join(folder, "started"), "w").close()
count = 0
while time.monotonic() < stop:
    try:
        open(os.path.join(folder, f"report-{count}.json"), "w").close()
    except OSError:
        break  # the folder is gone: as a replay worker's last write fails
    count += 1
"""


def test_a_folder_a_worker_still_writes_into_is_removed_all_the_same():
    folder = session_folder.create()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, folder])
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(folder, "started")) and time.monotonic() < deadline:
        time.sleep(0.005)
    session_folder.remove(folder)
    writer.wait(timeout=30)
    assert not os.path.exists(folder)


# A controller terminated while mkdtemp has made its folder but not yet returned it (the
# signal's handler runs between two bytecodes): the folder was left behind, one run of
# the suite in a few under load. Here the second folder stands for that moment.
TERMINATED_IN_MKDTEMP = """\
import os, signal, tempfile
from retrace_core.control import session_folder
session_folder.create()
tempfile.mkdtemp(prefix=f"{session_folder.PREFIX}{os.getpid()}-")
print(os.getpid(), flush=True)
os.kill(os.getpid(), signal.SIGTERM)
"""


def test_a_controller_terminated_inside_mkdtemp_leaves_no_folder():
    run = subprocess.run([sys.executable, "-c", TERMINATED_IN_MKDTEMP], capture_output=True, text=True,
                         env=clean_environment(), timeout=60)
    assert run.returncode == -signal.SIGTERM, run.stderr
    assert _folders_of(int(run.stdout)) == []
