"""Found in humanize (pytest-benchmark's PauseInstrumentation: `if sys.gettrace():
sys.settrace(None)` around its timer calibration) -- verify matches, `inspect --at end`
diverges: "event 1361: the tape expected time.time(), the program asked for os.dup2(6, 1)".

Under the engine, sys.gettrace() returns the engine's tracer where the recorded run saw None,
so the program takes another branch (and its settrace(None) switches the engine's line
tracing off until it restores it). The engine must be invisible to sys.gettrace() /
sys.getprofile() (and survive the program's settrace/setprofile), as the recorder is."""
import sys
import time

tracer = sys.gettrace()
if tracer is not None:  # pytest-benchmark, coverage, debuggers, profilers do this
    sys.settrace(None)
print("traced:", tracer is not None)
time.time()
if tracer is not None:
    sys.settrace(tracer)
print("done")
