"""A recorded child that its parent terminates keeps its events up to the SIGTERM.

Before, the tape was only flushed every 100 ms and a dev server that a test stopped
showed "its recording ends at event 0". The recorder's SIGTERM handler flushes the tape
and dies of SIGTERM as before; the program never sees the handler.
"""
import json

from conftest import cli

SERVER = """
import signal, sys, time
print("handler", signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, flush=True)
for _ in range(5):
    time.time()
print("ready", flush=True)
time.sleep(60)
"""
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "server.py"], stdout=subprocess.PIPE, text=True)
print(child.stdout.readline().strip())
print(child.stdout.readline().strip())
time.sleep(0.02)  # the child has recorded its write of "ready"; a flush every 100 ms may not have come
child.terminate()
print("child exit", child.wait())
"""


def test_a_terminated_child_keeps_its_events_and_exit_status(record, write_program):
    write_program(SERVER, name="server.py")
    write_program(PARENT, name="parent.py")
    run = record("parent.py")
    assert run.status == 0, run.stderr
    assert run.stdout.splitlines() == ["handler 0 True", "ready", "child exit -15"]
    processes = json.loads(cli("pids", str(run.path), "--json").stdout)
    child = next(p for p in processes if p["program"][-1:] == ["server.py"] or "server.py" in str(p))
    events = cli("events", str(run.path), "--pid", str(child["pid"]))
    assert "sys.stdout.write(b'ready\\n')" in events.stdout, events.stdout
    assert events.stdout.count("time.time()") == 5
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0 and "replayed exactly up to there" in verdict.stdout, verdict.stdout


BLOCKED_CHILD = """
import multiprocessing, signal, sys, threading, time
# The main thread blocks SIGTERM, so the kernel hands it to the other thread: a handler of
# Python's, which only the main thread runs, would wait for it to come back from the
# semaphore, which no one releases. (A pool's worker blocked in sem_wait missed it the
# same way when SIGTERM came just before it blocked.)
threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
for _ in range(3):
    time.time()
print("ready", flush=True)
multiprocessing.Semaphore(0).acquire()
"""
TERMINATING_PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "blocked.py"], stdout=subprocess.PIPE, text=True)
print(child.stdout.readline().strip())
time.sleep(0.05)
start = time.monotonic()
child.terminate()
print("child exit", child.wait(timeout=20), time.monotonic() - start < 5)
"""


def test_a_child_blocked_in_c_dies_of_sigterm_with_its_events(record, write_program):
    """Unrecorded, SIGTERM kills the process whichever thread the kernel hands it to.
    Recorded with the handler Python runs, the child above never died: its parent waited
    20 s and failed with TimeoutExpired. The handler is C's now, the flusher thread acts."""
    write_program(BLOCKED_CHILD, name="blocked.py")
    write_program(TERMINATING_PARENT, name="parent.py")
    run = record("parent.py")
    assert run.status == 0, run.stderr
    assert run.stdout.splitlines() == ["ready", "child exit -15 True"]
    processes = json.loads(cli("pids", str(run.path), "--json").stdout)
    child = next(p for p in processes if "blocked.py" in str(p))
    events = cli("events", str(run.path), "--pid", str(child["pid"]))
    assert events.stdout.count("time.time()") == 3 and "b'ready\\n'" in events.stdout, events.stdout
