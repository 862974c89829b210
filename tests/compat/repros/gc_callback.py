"""Known limitation 3: boundary calls made by GC callbacks (hypothesis' gc_cumulative_time,
as attrs' suite runs it): a corrupt tape, and a divergence."""
import gc
import time

gc.callbacks.append(lambda phase, info: time.perf_counter())
gc.set_threshold(1)
for _ in range(200):
    open(__file__).close()
print("done")
