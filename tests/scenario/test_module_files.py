"""Our modules' files are out of the program's sight (core/bootstrap/module_files.py): a
scan of ``sys.modules`` for files (pytest's ``inspect.getmodule``, to show a failing
test's source) made boundary calls on every module of ours, so a replay by a version of
ours that loads another set of modules diverged; a recording of a pytest run made an hour
before a module was added did, at its failure."""
import json
import os

import retrace_core
from conftest import assert_replay_prints_what_the_recording_printed, cli

PROGRAM = """
import inspect, sys
def f():
    pass
ours = sorted(name for name, module in sys.modules.items()
              if name.startswith("retrace_core") and getattr(module, "__file__", None))
print("ours with files:", ours)
print("found:", inspect.getmodule(f.__code__).__name__)  # a code object: every module's file resolved
"""


def test_a_scan_of_the_loaded_modules_makes_no_call_on_ours(record, write_program, tmp_path):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0, run.stderr
    assert "ours with files: ['retrace_core']" in run.stdout and "found: __main__" in run.stdout
    assert_replay_prints_what_the_recording_printed(run)
    package = os.path.dirname(retrace_core.__file__)
    calls = cli("events", str(run.path)).stdout
    assert os.path.join(package, "bootstrap") not in calls and os.path.join(package, "tape") not in calls
    state = json.loads(cli("inspect", str(run.path), "--at", "end", "--json", cwd=tmp_path).stdout)
    assert state.get("divergence") is None and state["position"] == state["end"]
