"""A replay blocked in a wait that nothing will end is reported, never waited on
(replay/stuck.py): ``verify``, ``replay`` and the engine each end with one clear line.

The program here waits in ``signal.pause()`` for a signal that a thread of its own sends
with ``os.kill``: a recorded call, which a replay does not perform. Found the same way in
trio's suite, where the wait was a faulthandler timer a snapshot did not have."""
import time

from conftest import cli

WAITS_FOR_ITS_OWN_SIGNAL = """\
import os, signal, threading
signal.signal(signal.SIGUSR1, lambda *a: print("woken"))
threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1)).start()
signal.pause()
print("done")
"""

QUICKLY = {"RETRACE_STUCK_AFTER": "2"}
STUCK = "the replay is stuck: its process has used no CPU for 2 s"


def _recorded(tmp_path):
    (tmp_path / "program.py").write_text(WAITS_FOR_ITS_OWN_SIGNAL)
    run = cli("record", "-o", str(tmp_path / "run.retrace"), "--", "program.py", cwd=tmp_path)
    assert (run.status, run.stdout) == (0, "woken\ndone\n"), run.stderr
    return str(tmp_path / "run.retrace")


def test_verify_and_replay_report_a_stuck_replay(tmp_path):
    recording = _recorded(tmp_path)
    started = time.monotonic()
    verified = cli("verify", recording, env=QUICKLY, timeout=60)
    assert verified.status == 1 and STUCK in verified.stdout + verified.stderr, verified.stdout + verified.stderr
    replayed = cli("replay", recording, env=QUICKLY, timeout=60)
    assert replayed.status == 1 and STUCK in replayed.stderr, replayed.stderr
    assert "Traceback" not in verified.stderr + replayed.stderr
    assert time.monotonic() - started < 30


def test_the_engine_reports_a_stuck_replay_in_one_line(tmp_path):
    recording = _recorded(tmp_path)
    inspected = cli("inspect", recording, "--at", "end", env=QUICKLY, timeout=60)
    assert inspected.status != 0, inspected.stdout
    assert inspected.stderr.strip().splitlines() == [f"retrace-tui: inspect: {STUCK}, blocked in a wait that the "
                                                     "recording did not have (a signal the recording delivered, "
                                                     "a C-level wait)"], inspected.stderr
