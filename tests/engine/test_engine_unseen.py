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
