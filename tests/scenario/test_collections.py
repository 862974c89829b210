"""Garbage collections run at the same moments recorded and replayed (boundary/collector.py).

The cyclic collector runs when allocation counts say so, and recorder, player and engine
allocate differently in the program's process: before, a finalizer or a ``gc.callbacks``
entry that makes a boundary call ran at one point recorded and at another replayed, and
the replay diverged (requests: urllib3's ``weakref.finalize`` taking a queue's lock; click:
logging's weakref callback taking its lock; attrs: hypothesis measuring time in GC).
"""
import json
import subprocess
import sys
from pathlib import Path

from conftest import clean_environment, cli

REPROS = Path(__file__).resolve().parents[1] / "compat" / "repros"  # docs/compatibility.md's programs

THREADS_FINALIZE_INTO_A_QUEUE = """\
import gc, queue, threading, time, weakref

pool = queue.Queue()


class Connection:
    def __init__(self, n):
        self.me = self  # freed only by the cyclic collector
        weakref.finalize(self, pool.put, n)  # queue.put takes the queue's lock: an event


def worker():
    for i in range(300):
        Connection(i)
        rows = [[j] for j in range(40)]
        time.monotonic()


# One thread makes the garbage: with two at once, which of the other's objects a collection
# finds depends on how far that one had run, which the tape does not fix (docs/recording.md).
threads = [threading.Thread(target=worker), threading.Thread(target=time.sleep, args=(0.05,))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
gc.collect()
print("returned", pool.qsize())
"""

# The main thread's events come while the worker is half-way through its loop, between two
# of its (rare) events: a collection placed there found garbage the replay's worker had not
# made yet (it waits after its last event), and the replay diverged, six recordings in six.
MAIN_THREAD_EVENTS_WHILE_A_WORKER_MAKES_GARBAGE = """\
import gc, queue, threading, time, weakref

pool = queue.Queue()


class Connection:
    def __init__(self, n):
        self.me = self
        weakref.finalize(self, pool.put, n)


def worker():
    for i in range(3000):
        Connection(i)
        rows = [[j] for j in range(40)]
        if i % 50 == 0:
            time.monotonic()


thread = threading.Thread(target=worker)
thread.start()
while thread.is_alive():
    time.sleep(0.0002)
    for _ in range(20):
        time.monotonic()
thread.join()
gc.collect()
print("returned", pool.qsize())
"""

CALLBACK_MEASURES_TIME_IN_GC = """\
import gc, time

spent, started = 0.0, 0.0


def measure(phase, info):  # hypothesis subtracts this from a test's run time
    global spent, started
    if phase == "start":
        started = time.perf_counter()
    else:
        spent += time.perf_counter() - started


gc.callbacks.append(measure)
for round in range(100):
    rows = [[i] for i in range(100)]
    keep = [rows, keep] if round else [rows]
    time.time()
gc.collect()
gc.callbacks.remove(measure)
print(f"time in GC: {spent:.9f} s")
"""

SETTINGS = """\
import gc
print("threshold", gc.get_threshold())
gc.set_threshold(900, 5, 5)
print("threshold", gc.get_threshold())
gc.disable()
print("enabled", gc.isenabled())
gc.enable()
print("enabled", gc.isenabled())
"""

# No boundary call for two million cycles: only the collector's own safety net frees them.
NO_BOUNDARY_CALLS = """\
import gc, time
time.time()
highest = 0
for i in range(2_000_000):
    a = [i]
    a.append(a)
    if i % 5000 == 0:
        highest = max(highest, gc.get_count()[0])
print("bounded", highest < 1_000_000)  # the safety nets: 100 (recorded) and 400 (replayed) times 700 (2,000 on 3.13)
"""


def test_a_finalizer_that_reads_the_clock_replays_exactly_and_under_the_engine(record):
    run = record(str(REPROS / "gc_finalizer_timing.py"))  # the fixture verifies every recording after the test
    assert (run.status, run.stdout) == (0, "done\n")
    at_end = cli("inspect", str(run.path), "--at", "end", "--json")
    assert at_end.status == 0, at_end.stdout + at_end.stderr
    state = json.loads(at_end.stdout)
    assert state["position"] == state["end"] and "divergence" not in state


def test_weakref_finalizers_in_threads_take_their_locks_where_they_did(record, write_program):
    write_program(THREADS_FINALIZE_INTO_A_QUEUE)
    run = record("program.py")
    assert (run.status, run.stdout) == (0, "returned 300\n")


def test_collections_wait_until_the_other_threads_stand_at_calls(record, write_program):
    write_program(MAIN_THREAD_EVENTS_WHILE_A_WORKER_MAKES_GARBAGE)
    run = record("program.py")  # the fixture verifies it
    assert (run.status, run.stdout) == (0, "returned 3000\n")
    at_end = cli("inspect", str(run.path), "--at", "end", "--json")  # and the engine replays it to its end
    assert at_end.status == 0, at_end.stdout + at_end.stderr
    state = json.loads(at_end.stdout)
    assert state["position"] == state["end"] and "divergence" not in state


def test_time_measured_in_gc_callbacks_is_replayed(record, write_program):
    write_program(CALLBACK_MEASURES_TIME_IN_GC)
    run = record("program.py")
    assert run.status == 0, run.stderr
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout)


def test_the_program_sees_its_own_collector_settings(record, write_program, tmp_path):
    write_program(SETTINGS)
    plain = subprocess.run([sys.executable, "program.py"], cwd=tmp_path, env=clean_environment(),
                           capture_output=True, text=True, timeout=60)
    run = record("program.py")
    assert run.stdout == plain.stdout
    assert run.stdout.splitlines()[1:] == ["threshold (900, 5, 5)", "enabled False", "enabled True"]


def test_garbage_is_collected_without_boundary_calls_recorded_and_replayed(record, write_program):
    write_program(NO_BOUNDARY_CALLS)
    run = record("program.py")
    assert (run.status, run.stdout) == (0, "bounded True\n")
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "bounded True\n")
