"""Found in filelock (test_threaded_shared_lock_obj and friends): threads that make boundary
calls at the same time, some raising (os.mkdir -> FileExistsError), some with keyword
arguments (os.stat(path, follow_symlinks=True)).

The recording's tape cannot be read back (about one run in two): `retrace-tui events` and
the engine stop with "corrupt tape (unexpected tuple record)" (filelock: "unexpected
stat_result record"); verify may stop earlier and not notice.

Cause: core/tape/codec.py packs every event with two module-level msgpack.Packer objects
(_result_packer, _argument_packer), shared by all threads. A Packer keeps its output in an
internal buffer, and its `default=` hook (_encode_extension / _encode_argument: stat_result,
exceptions, ...) is Python code, so the GIL can pass to another thread in the middle of a
pack(): that thread's object lands in the first one's buffer. In the filelock tape, one
os.stat event came out as header + [[args, kwargs], stat_result] + the next event's header.
Fix: one Packer per thread (a _thread._local), or msgpack.packb() per call, or a lock."""
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
