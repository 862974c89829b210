"""A finalizer run by the cyclic collector makes a boundary call (the jinja2 engine divergence
is suspected to be of this class: asyncio's shutdown_asyncgens found work in the engine's
replay that it did not in the recording).

An object in a reference cycle is freed when the collector runs, and the collector runs when
the count of allocations crosses its threshold. Recorder, player and engine allocate in the
program's process, each differently, so the `__del__` (or weakref callback, or async
generator finalizer) runs at another point: verify diverges ("the tape expected time.time(),
the program asked for time.monotonic()" at event ~90), and `inspect --at end` earlier (~21)."""
import time


class Cycle:
    def __init__(self):
        self.me = self  # freed only by the cyclic collector

    def __del__(self):
        time.monotonic()  # a boundary call at the moment of collection


for round in range(200):
    Cycle()
    rows = [[i] for i in range(50)]  # allocations: the collector's thresholds count these
    time.time()
print("done")
