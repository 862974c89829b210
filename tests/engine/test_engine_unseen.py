"""The engine is invisible to the program it replays: what the recorded run saw of
``sys.gettrace()`` it sees under the engine too. Found in humanize's suite, where
pytest-benchmark switches a tracer off when it finds one: `verify` matched, and the
engine diverged ("the tape expected time.time(), the program asked for os.dup2")."""
import json
import sys

import pytest

from conftest import cli

PROGRAM = """
import sys, threading, time

tracer = sys.gettrace()
if tracer is not None:  # pytest-benchmark, coverage and debuggers do this
    sys.settrace(None)
print("traced:", tracer is not None)
time.time()
if tracer is not None:
    sys.settrace(tracer)

def mine(frame, event, arg):
    return None

sys.settrace(mine)
print("mine:", sys.gettrace() is mine)
sys.settrace(None)
print("none:", sys.gettrace())
for _ in range(3):
    time.time()
print("done")
"""


def test_sys_gettrace_under_the_engine_is_what_the_recording_saw(record, write_program, tmp_path):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.stdout.splitlines() == ["traced: False", "mine: True", "none: None", "done"]
    shown = cli("inspect", str(run.path), "--at", "end", "--json", cwd=tmp_path)
    assert shown.status == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state.get("divergence") is None, state.get("divergence")
    assert state["position"] == state["end"] and state["event"] == state["events"]


MONITORING_PROGRAM = """
import sys, time

monitoring = sys.monitoring
print("tools:", [monitoring.get_tool(tool) for tool in range(6)])
lines = []
monitoring.use_tool_id(monitoring.COVERAGE_ID, "mine")  # as coverage.py does
monitoring.register_callback(monitoring.COVERAGE_ID, monitoring.events.LINE,
                             lambda code, line: lines.append(line))
monitoring.set_events(monitoring.COVERAGE_ID, monitoring.events.LINE)

def work():
    total = 0
    for i in range(3):
        total += i
    return total

work()
monitoring.set_events(monitoring.COVERAGE_ID, 0)
monitoring.free_tool_id(monitoring.COVERAGE_ID)
time.time()
print("lines:", lines)
"""


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is 3.12+")
def test_a_program_using_sys_monitoring_replays_under_the_engine_as_recorded(record, write_program, tmp_path):
    """The engine's tracer is a sys.monitoring tool there: the program's own tool gets the
    same events, and no tool id looks taken that was free when recorded."""
    write_program(MONITORING_PROGRAM)
    run = record("program.py")
    assert run.stdout.splitlines()[0] == "tools: [None, None, None, None, None, None]"
    assert run.stdout.splitlines()[1] == "lines: [12, 18, 13, 14, 15, 14, 15, 14, 15, 14, 16, 19]"
    shown = cli("inspect", str(run.path), "--at", "end", "--json", cwd=tmp_path)
    assert shown.status == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state.get("divergence") is None, state.get("divergence")
    assert state["position"] == state["end"] and state["event"] == state["events"]


C_TRACER_PER_THREAD = """
import ctypes, threading, time

TRACE_FUNCTION = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
set_trace = ctypes.pythonapi.PyEval_SetTrace
set_trace.argtypes = [TRACE_FUNCTION, ctypes.py_object]
here = threading.local()
wrong = []

def trace(owner, frame, what, arg):  # a C trace function per thread, as coverage's CTracer
    if getattr(here, "name", None) != owner["name"]:
        wrong.append((owner["name"], getattr(here, "name", None)))
    return 0

c_trace = TRACE_FUNCTION(trace)

def leaf(n):
    return n + 1

def work(name, handoff):
    here.name = name
    set_trace(c_trace, {"name": name})
    for _ in range(30):
        with handoff:  # the threads take turns: their events interleave
            sum(leaf(i) for i in range(20))
        time.sleep(0.001)
    set_trace(ctypes.cast(None, TRACE_FUNCTION), None)

handoff = threading.Lock()
threads = [threading.Thread(target=work, args=(f"t{i}", handoff)) for i in range(3)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("called for another thread's frames:", len(wrong))
"""


def test_each_threads_own_c_tracer_is_called_for_its_frames_under_the_engine(record, write_program, tmp_path):
    """coverage's C tracer is one per thread, each with its own stack of the thread's frames.
    Under the engine on 3.11, which takes CPython's trace slot back and calls the program's
    C trace function on, the last thread's tracer was called for every thread's frames:
    coverage's stacks went out of step and past their end ("realloc(): invalid next size"
    killed the worker in watchdog's suite), and the program saw calls it never had."""
    write_program(C_TRACER_PER_THREAD)
    run = record("program.py")
    assert "called for another thread's frames: 0" in run.stdout, run.stdout + run.stderr
    at_end = cli("inspect", str(run.path), "--at", "end", timeout=300)
    assert at_end.status == 0 and "(target)" in at_end.stdout.splitlines()[0], at_end.stdout + at_end.stderr
