"""Known limitation 1: threads started in rounds reuse OS thread idents (cachetools' test_threading)."""
import threading
import time

for _ in range(20):
    barrier = threading.Barrier(2)  # both threads of a round are alive at once

    def work():
        if barrier.wait() == 0:  # whichever thread the scheduler let through first
            time.monotonic()  # only one of the two makes a boundary call

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print("done")
