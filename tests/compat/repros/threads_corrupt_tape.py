"""Found in filelock (test_threaded_shared_lock_obj and friends): threads that make boundary
calls at the same time, some raising (os.mkdir -> FileExistsError), some with keyword
arguments (os.stat(path, follow_symlinks=True)).

The recording's tape cannot be read back: `retrace-tui events` and the engine stop with
"corrupt tape (unexpected stat_result record)"; events of two threads are interleaved
inside one event's bytes."""
import os
import tempfile
import threading

folder = tempfile.mkdtemp()
path = os.path.join(folder, "a")


def work():
    for _ in range(2000):
        try:
            os.mkdir(folder)
        except FileExistsError:
            pass
        os.stat(folder, follow_symlinks=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.close(fd)


threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
os.remove(path)
os.rmdir(folder)
print("done")
