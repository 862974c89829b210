"""A replay blocked in a wait that nothing will end is reported, never waited on
(replay/stuck.py): ``verify``, ``replay`` and the engine each end with one clear line.

The program here waits in C (``pause(2)`` through ctypes, as a C library would) for a
signal that its child process sends: a replay does not run the child. Found in trio's
suite, where the wait was a faulthandler timer that a snapshot did not have."""
import time

from conftest import cli

WAITS_IN_C_FOR_A_SIGNAL = """\
import ctypes, os, signal, subprocess, sys
signal.signal(signal.SIGUSR1, lambda *a: print("woken"))
child = subprocess.Popen([sys.executable, "-c",
                          f"import os, time; time.sleep(0.3); os.kill({os.getpid()}, {int(signal.SIGUSR1)})"])
ctypes.CDLL(None).pause()
child.wait()
print("done")
"""

QUICKLY = {"RETRACE_STUCK_AFTER": "2"}
STUCK = "the replay is stuck: its process has used no CPU for 2 s"


def _recorded(tmp_path):
    (tmp_path / "program.py").write_text(WAITS_IN_C_FOR_A_SIGNAL)
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
