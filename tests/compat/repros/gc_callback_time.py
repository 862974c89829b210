"""Found in attrs and python-dateutil (hypothesis: a test that exceeds its deadline): the
failure report differs in the replay -- "the program wrote other bytes than recorded".

hypothesis subtracts the time spent in garbage collection from a test's run time
(gc_cumulative_time(): a gc.callbacks entry that reads time.perf_counter) and prints the
result ("Test took 261.89ms, which exceeds the deadline of 200.00ms"). Since boundary calls
made inside GC callbacks are kept off the tape (known limitation 3), the callback reads the
real clock in both runs, so the value differs in the replay -- and with it the message, and
possibly the deadline decision itself. Values that flow from a GC callback into the
program need to be replayed, not left out."""
import gc
import time

spent = 0.0
started = 0.0


def measure(phase, info):
    global spent, started
    if phase == "start":
        started = time.perf_counter()
    else:
        spent += time.perf_counter() - started


gc.callbacks.append(measure)
for _ in range(3):
    gc.collect()
gc.callbacks.remove(measure)
print(f"time in GC: {spent:.9f} s")
