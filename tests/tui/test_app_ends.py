"""An app that ends, however it ends, ends its replay processes: the engine's workers and
snapshots, and the first look's. The TUI tests end their apps without `q`, and each left
its sessions open (some fifty processes each) until the test process exited: a TUI test
run kept a thousand replay processes alive by its end. A user's `retrace-tui` that quit
while the run was still indexed left the indexed session behind the same way."""
from __future__ import annotations

import glob
import os
import tempfile
import time

from retrace_core.control import session_folder
from retrace_tui.app import RetraceApp
from tui_helpers import drive, settle


def _our_session_folders() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), f"{session_folder.PREFIX}{os.getpid()}-*")))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def _wait_until(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_an_app_that_ends_without_q_ends_its_replay_processes(quickstart_recording):
    before = _our_session_folders()
    seen: list[int] = []

    async def script(pilot):
        await settle(pilot)
        workers = pilot.app.debugger.session.workers
        seen.extend(process.pid for process in workers.snapshots.values())
        seen.append(workers.worker.pid)

    drive(RetraceApp(str(quickstart_recording)), script)
    assert len(seen) > 2
    assert _wait_until(lambda: not any(_alive(pid) for pid in seen)), [pid for pid in seen if _alive(pid)]
    assert _wait_until(lambda: _our_session_folders() <= before), _our_session_folders() - before


def test_an_app_that_ends_while_the_run_is_indexed_ends_the_indexing_session_too(quickstart_recording):
    before = _our_session_folders()

    async def script(pilot):
        await pilot.pause(0.05)  # the indexing pass and the first look have only begun

    drive(RetraceApp(str(quickstart_recording)), script)
    assert _wait_until(lambda: _our_session_folders() <= before), _our_session_folders() - before
