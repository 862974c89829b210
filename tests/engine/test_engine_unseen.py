"""The engine is invisible to the program it replays: what the recorded run saw of
``sys.gettrace()`` it sees under the engine too. Found in humanize's suite, where
pytest-benchmark switches a tracer off when it finds one: `verify` matched, and the
engine diverged ("the tape expected time.time(), the program asked for os.dup2")."""
import json

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
