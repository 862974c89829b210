"""A program that traces itself (coverage under ``pytest --cov``, a profiler, its own
``sys.settrace``) records and replays exactly: its tracer sees none of retrace's code, and
code it runs on retrace's behalf (a path argument's ``__fspath__``) makes no events."""
import textwrap

import pytest

from conftest import cli, printed, record_and_verify

# The program's tracer, as coverage's: each file whose code it sees first, it looks up on disk.
LOOKS_UP_FILES = """
import os

seen = []

def tracer(frame, event, arg):
    name = frame.f_code.co_filename
    if event == "call" and name not in seen:
        seen.append(name)
        if not name.startswith("<"):
            os.path.realpath(name)
    return None
"""

TRACES_ITSELF = LOOKS_UP_FILES + textwrap.dedent("""
    import pathlib, sys, threading, time

    def work(folder):
        os.chdir(folder)          # a path argument: its __fspath__ is Python code
        return time.time() > 0, os.getcwd() == str(folder)

    try:  # the same call with other arguments replayed (a thread ident): a hint, not a divergence
        os.stat(f"/nonexistent/{threading.get_ident()}")
    except OSError:
        pass
    folder = pathlib.Path(os.getcwd())  # made before the tracer: its first code seen is __fspath__
    sys.settrace(tracer)
    print("worked", work(folder))
    sys.settrace(None)
    print("ours_seen", [name for name in seen if "retrace" in name and not name.startswith("<")])
""")


def test_a_program_whose_tracer_looks_up_each_new_file_replays(record, write_program):
    """Recorded, the tracer saw the tape writer's code and looked its file up (lstat
    events); replayed it saw the player's, at other moments: "the tape expected os.chdir,
    the program asked for os.lstat('/...')". And a ``pathlib.Path`` argument, turned into
    its text inside the real call when recorded but by the player when replayed, made the
    tracer look up ``pathlib.py`` at another moment (or never: once a call had other
    arguments than recorded, the player stopped comparing them, and so stopped running the
    path's ``__fspath__``, which the real call always ran)."""
    write_program(TRACES_ITSELF)
    run = record_and_verify(record, 2)
    assert run.status == 0, run.stderr
    assert printed(run) == {"worked": (True, True), "ours_seen": []}


PROJECT = {
    "calc.py": """\
def add(a, b):
    return a + b


def mul(a, b):
    out = 0
    for _ in range(b):
        out = add(out, a)
    return out
""",
    "test_calc.py": """\
import time

from calc import add, mul


def test_add():
    assert add(2, 3) == 5


def test_mul():
    time.time()
    assert mul(3, 4) == 13
""",
}


def test_a_pytest_run_under_pytest_cov_replays_and_opens_at_the_failure(record, tmp_path):
    """``pytest --cov``: coverage's C tracer looks up every new file it sees, and saw
    retrace's (the replay diverged at the first boundary call after coverage started).
    Under the engine on 3.11, coverage's tracer and the engine's need CPython's one trace
    slot: whichever came last took it, and the replay diverged where coverage, no longer
    called, did not look up the test's files."""
    pytest.importorskip("pytest_cov")
    for name, text in PROJECT.items():
        (tmp_path / name).write_text(text)
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov=calc", "test_calc.py")
    assert run.status == 1 and "1 failed, 1 passed" in run.stdout and "calc.py" in run.stdout, run.stdout
    verified = cli("verify", str(run.path))
    assert verified.status == 0, verified.stdout + verified.stderr
    at_failure = cli("inspect", str(run.path), "--at", "failure", timeout=300)
    assert at_failure.status == 0, at_failure.stderr
    assert "test_calc.py:12 in test_mul" in at_failure.stdout
    assert "assert left: mul(3, 4): int = 12" in at_failure.stdout
    # the indexed engine, through coverage's start and stop: a breakpoint, and the end
    in_add = cli("inspect", str(run.path), "--at", "calc.py:2", timeout=300)
    assert in_add.status == 0 and "calc.py:2 in add" in in_add.stdout, in_add.stdout + in_add.stderr
    at_end = cli("inspect", str(run.path), "--at", "end", timeout=300)
    assert at_end.status == 0 and "(target)" in at_end.stdout.splitlines()[0], at_end.stdout + at_end.stderr



DIVERGES_UNDER_COVERAGE = """\
import sqlite3, sys


def test_a_blob():
    sys.path.append("/nonexistent-folder")  # coverage looks the path up again at the next new code
    connection = sqlite3.connect(":memory:")
    connection.execute("create table t (b blob)")
    connection.execute("insert into t values (x'00')")
    connection.blobopen("t", "b", 1)  # not replayable: the replay diverges here
"""


def test_a_divergence_under_pytest_cov_is_reported_not_a_dead_worker(record, tmp_path):
    """A replay that diverges while coverage's C tracer runs: coverage is called for the
    code that reports the divergence too, and looked the changed ``sys.path`` up on disk,
    a boundary call, which raised the divergence again out of the replay's end. The engine's
    worker died with "lost sys.stderr" (watchdog's suite: `inspect` said only "the replay
    worker died") instead of reporting where the replay diverged."""
    pytest.importorskip("pytest_cov")
    (tmp_path / "test_blob.py").write_text(DIVERGES_UNDER_COVERAGE)
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov=.", "test_blob.py", verify_after=False)
    assert run.status == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
    verified = cli("verify", str(run.path))
    assert verified.status != 0 and "blobopen" in verified.stdout + verified.stderr, verified.stdout + verified.stderr
    at_end = cli("inspect", str(run.path), "--at", "end", timeout=300)
    said = at_end.stdout + at_end.stderr
    assert "replay diverged" in said and "blobopen" in said and "worker died" not in said, said

FINDS_NOTHING = """\
import importlib.machinery, sys


class FindsNothing:  # as setuptools' _distutils_hack, put there at start-up by a .pth file
    @staticmethod
    def find_spec(name, path=None, target=None):
        return None


sys.meta_path.insert(sys.meta_path.index(importlib.machinery.PathFinder), FindsNothing)
"""


def test_a_finder_the_program_had_at_start_is_asked_in_the_replay_too(record, write_program, tmp_path):
    """The replay serves the project's modules from the recording, through a finder that
    stood first on ``sys.meta_path``: the finders the program had at start-up (setuptools'
    ``_distutils_hack``) were not asked there, and a tracer that had looked up their file at
    the first import when recorded (coverage, under watchdog's suite) did not: "the tape
    expected os.lstat('.../site-packages'), the program asked for os.stat('.../conftest.py')"."""
    (tmp_path / "sitecustomize.py").write_text(FINDS_NOTHING)
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    write_program(LOOKS_UP_FILES + textwrap.dedent("""
        import sys

        sys.settrace(tracer)
        import helper
        sys.settrace(None)
        print("value", helper.VALUE, "asked", any(name.endswith("sitecustomize.py") for name in seen))
    """))
    run = record("program.py", env={"PYTHONPATH": str(tmp_path)})  # the fixture verifies it
    assert run.stdout == "value 42 asked True\n", run.stderr


# Tracers that look a file up before asking whether it is one (hypothesis's explain phase:
# `Path(name).resolve()` first, `name.startswith("<")` after); each keeps what it saw.
LOOKS_UP_EVERY_FILE = """
import os, sys, threading, time

seen = set()

def look_up(name):
    if name not in seen:
        seen.add(name)
        os.path.realpath(name)

def tracer(frame, event, arg):
    look_up(frame.f_code.co_filename)
    return tracer

def profiler(frame, event, arg):
    look_up(frame.f_code.co_filename)

def line(code, number):
    look_up(code.co_filename)

def work():
    total = 0
    for round in range(200):
        total += int(time.time() > 0)
        time.sleep(0.0005)  # the tape's flusher thread runs our code meanwhile
    return total
"""

SETTRACE_EVERYWHERE = LOOKS_UP_EVERY_FILE + """
threading.settrace(tracer)
sys.settrace(tracer)
print("traced", (work(), sys.gettrace() is tracer))
sys.settrace(None)
sys.setprofile(profiler)
print("profiled", (work(), sys.getprofile() is profiler))
sys.setprofile(None)
print("ours_seen", sorted(name for name in seen if "retrace" in name))
"""

MONITORING_EVERYWHERE = LOOKS_UP_EVERY_FILE + """
monitoring = sys.monitoring
monitoring.use_tool_id(3, "explainer")
print("previous", monitoring.register_callback(3, monitoring.events.LINE, line))
monitoring.set_events(3, monitoring.events.LINE)
print("monitored", work())
monitoring.set_events(3, 0)
print("back", monitoring.register_callback(3, monitoring.events.LINE, None) is line)
monitoring.free_tool_id(3)
print("ours_seen", sorted(name for name in seen if "retrace" in name))
"""


@pytest.mark.parametrize("program", [
    SETTRACE_EVERYWHERE,
    pytest.param(MONITORING_EVERYWHERE, marks=pytest.mark.skipif(
        not hasattr(__import__("sys"), "monitoring"), reason="sys.monitoring is 3.12+")),
], ids=["settrace-setprofile", "sys.monitoring"])
def test_a_tracer_that_looks_up_every_file_sees_none_of_ours(record, write_program, program):
    """hypothesis, explaining a failing test, looks up each new file its tracer sees before
    asking whether it is a file: recorded it looked up the tape writer's code (on 3.12+ in
    the tape's flusher thread too: sys.monitoring reaches every thread), replayed the
    player's: "the tape expected os.lstat('<retrace>') in thread 1, the program asked for
    os.lstat('/tmp')". And under the engine on 3.11 the program's ``sys.settrace`` tracer
    did not run at all (the engine kept it apart): the replay diverged where it had
    looked up a file."""
    write_program(program)
    run = record_and_verify(record, 2)
    shown = printed(run)
    assert shown["ours_seen"] == [] and shown.get("traced", (200, True)) == (200, True), shown
    assert shown.get("previous") is None and shown.get("back", True) is True, shown
    at_end = cli("inspect", str(run.path), "--at", "end", timeout=300)
    assert at_end.status == 0 and "(target)" in at_end.stdout.splitlines()[0], at_end.stdout + at_end.stderr



SEES_WHAT_RUNS_WHILE_A_THREAD_WAITS = """
import sys, threading, time

seen = set()

def tracer(frame, event, arg):
    if event == "call":
        seen.add(frame.f_code.co_filename.rpartition("/")[2])
    return None

lock = threading.Lock()
lock.acquire()

def waiter():
    with lock:  # stands in a boundary call while the main thread allocates
        pass

sys.settrace(tracer)
threading.settrace(tracer)
thread = threading.Thread(target=waiter)
thread.start()
time.sleep(0.05)
junk = []
for i in range(100_000):
    junk.append([i])  # young containers: collections fall due
    if i % 500 == 0:
        time.time()  # an event: where the recorder places a due collection
lock.release()
thread.join()
sys.settrace(None)
print("dis_seen", "dis.py" in seen)
"""


def test_a_tracer_sees_nothing_the_recorders_collector_runs(record, write_program):
    """The recorder places a due collection only where every other thread stands inside a
    boundary call, and reads the bytecode of the calls they stand in with ``dis``: the
    program's tracer saw ``dis.py``'s code, a file new to it (coverage looked it up on disk
    in watchdog's suite: ``lstat`` events the replay, which runs no collector, never made)."""
    write_program(SEES_WHAT_RUNS_WHILE_A_THREAD_WAITS)
    run = record_and_verify(record, 2)
    assert printed(run) == {"dis_seen": False}

PROFILES_ITSELF = """
import sys

events = []

def profiler(frame, event, arg):
    name = arg.__name__ if event.startswith("c_") else frame.f_code.co_name
    events.append((event, name))

class Profiled:
    def __enter__(self):
        sys.setprofile(profiler)
    def __exit__(self, *exc):
        sys.setprofile(None)

with Profiled():
    len("abc")
print("profiled", events)
print("gone", (sys.getprofile(), sys.gettrace()))
"""


def test_a_profiler_sees_the_programs_own_setprofile_as_a_c_call(record, write_program, tmp_path):
    """greenlet's tracing tests compare the events their profiler gets: the last one is
    ``('c_call', 'setprofile')``, the call that removes it. Recorded, ``sys.setprofile`` was
    our stand-in, a Python function (ours, so the profiler did not see it): 7 tests failed
    recorded that passed plain. The stand-ins are built-ins, as the originals."""
    import subprocess
    import sys

    write_program(PROFILES_ITSELF)
    plain = subprocess.run([sys.executable, "program.py"], cwd=tmp_path, capture_output=True, text=True)
    run = record("program.py")  # the fixture verifies it
    assert run.stdout == plain.stdout, (run.stdout, plain.stdout)
    assert ("c_call", "setprofile") in printed(run)["profiled"]
    at_end = cli("inspect", str(run.path), "--at", "end", timeout=300)
    assert at_end.status == 0 and "(target)" in at_end.stdout.splitlines()[0], at_end.stdout + at_end.stderr

PROFILER_READING_THE_CLOCK = """
import os, random, sys, time

calls = 0

def profiler(frame, event, arg):  # as a profiler in Python times each call
    global calls
    if event in ("call", "c_call"):
        calls += 1
        time.perf_counter()

sys.setprofile(profiler)
with open(__file__) as handle:
    text = handle.read()
random.random(), os.getcwd(), time.time()
sys.setprofile(None)
print("read", len(text) > 0, "calls", calls > 0)
"""


def test_a_profiler_reading_the_clock_at_each_call_replays(record, write_program):
    """The profiler was not called for our frames, but it was for the standard library's
    that ours called (``isinstance`` with an ABC in a wrapper runs abc.py), and the
    player's wrappers call other such code than the recorder's: the replay read the clock
    other times than recorded ("the tape expected time.perf_counter(), the program asked
    for file.tell(4)"), in `verify` too."""
    write_program(PROFILER_READING_THE_CLOCK)
    run = record("program.py")  # the fixture verifies it
    assert run.stdout == "read True calls True\n"
