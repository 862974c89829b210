"""Programs reduced from real test suites that once broke replay (see docs/compatibility.md)."""
import pytest

from conftest import cli, record_and_verify
from retrace_core.control.session import Session


def test_threads_started_in_rounds_reuse_os_idents(record, write_program):
    # cachetools: a new thread can get the ident of a finished one; logical ids must not follow.
    write_program("""
        import threading, time
        for _ in range(20):
            barrier = threading.Barrier(2)
            def work():
                if barrier.wait() == 0:
                    time.monotonic()
            threads = [threading.Thread(target=work) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        print("done")
    """)
    for attempt in range(3):
        run = record("program.py", name=f"rounds{attempt}.retrace")
        assert run.stdout == "done\n"


def test_boundary_calls_from_gc_callbacks_replay_where_they_were_made(record, write_program):
    # hypothesis times collections with perf_counter. Collections fell elsewhere in replay,
    # so the callbacks' calls were kept off the tape; now the recording places collections
    # (boundary/collector.py), so they are taped and replayed (the fixture verifies).
    write_program("""
        import gc, time
        gc.callbacks.append(lambda phase, info: time.perf_counter())
        gc.set_threshold(1)
        for _ in range(200):
            open(__file__).close()
        print("done")
    """)
    run = record("program.py")
    assert run.stdout == "done\n"
    assert len([e for e in run.tape().events if e.function == "time.perf_counter"]) > 50


def test_recorded_sources_are_found_only_where_python_would_find_them(record, write_program):
    # pytest --import-mode=importlib asks for modules on other search paths.
    write_program("VALUE = 1\n", name="helper.py")
    write_program("""
        import sys
        import helper
        print([type(f).__name__ for f in sys.meta_path if f.find_spec("helper", ["/nowhere"]) is not None])
    """)
    run = record("program.py")
    assert run.stdout == "[]\n"


def test_a_recording_made_with_a_bytecode_cache_folder_opens_in_the_debugger(record, write_program, tmp_path):
    """Found by bench_engine, which records with ``PYTHONPYCACHEPREFIX`` (the variable CI
    images set to keep caches out of the checkout): the engine imports a module of ours
    that the recorded process never did (``trace/unseen.py``), after the boundary was
    patched; with the cache in its own folder there was no compiled copy yet, the import
    wrote one through ``io.FileIO``, a call the tape did not have, and the worker died:
    "event 1: the tape expected time.perf_counter(), the program asked for io.FileIO(4, 'wb')".
    ``verify`` matched. The reference tracer is imported late too."""
    write_program("""
        import time
        start = time.perf_counter()
        total = sum(i * i for i in range(2000))
        print("total", total, time.perf_counter() > start)
    """)
    for tracer in ("c", "python"):
        cache = tmp_path / f"cache-{tracer}"
        run = record("program.py", name=f"{tracer}.retrace",
                     env={"PYTHONPYCACHEPREFIX": str(cache), "PYTHONDONTWRITEBYTECODE": ""})
        assert run.status == 0 and "total" in run.stdout, run.stderr
        with Session(str(run.path), tracer=tracer) as session:  # the indexing pass runs to the end
            assert session.stop.finished and session.index.end > 10
    inspected = cli("inspect", str(run.path), "--at", "end")
    assert inspected.status == 0 and "diverged" not in inspected.stdout + inspected.stderr, inspected.stderr


def test_psutil_asking_the_kernel_about_a_child_replays(record, write_program):
    # psutil's own tests: its C part asks the kernel about a process (CPU affinity, I/O and
    # CPU priority) by pid. Replayed, the recorded child's pid named no process, psutil
    # raised NoSuchProcess and the program went another way: "the tape expected
    # sys.stdout.write(b'affinity'), the program asked for io.open('/proc/PID/stat')".
    pytest.importorskip("psutil")
    write_program("""
        import subprocess, sys
        import psutil

        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
        proc = psutil.Process(child.pid)
        print("affinity", len(proc.cpu_affinity()) > 0)
        print("ionice", proc.ionice().ioclass >= 0)
        print("nice", proc.nice())
        print("memory", psutil.virtual_memory().total > 0)
        print("loopback", "lo" in psutil.net_if_addrs())
        child.wait()
    """)
    run = record("program.py")  # the fixture verifies it
    assert run.status == 0, run.stderr
    assert run.stdout == "affinity True\nionice True\nnice 0\nmemory True\nloopback True\n"


def test_questions_about_another_process_by_pid_replay(record, write_program):
    # psutil's Process.rlimit() is resource.prlimit(pid, ...): replayed, the recorded child's
    # pid named no process ("the tape expected sys.stdout.write(b'u'), the program asked for
    # io.open('/proc/PID/stat')"). The other per-process questions the same way.
    write_program("""
        import os, resource, subprocess, sys

        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
        print("prlimit", resource.prlimit(child.pid, resource.RLIMIT_NOFILE)[0] > 0)
        print("priority", os.getpriority(os.PRIO_PROCESS, child.pid))
        # The child shares our group and session (their ids are 0 in some containers).
        print("group", os.getpgid(child.pid) == os.getpgrp(), os.getsid(child.pid) == os.getsid(0))
        print("usage", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0)
        child.wait()
    """)
    run = record("program.py")  # the fixture verifies it
    assert run.stdout == "prlimit True\npriority 0\ngroup True True\nusage True\n", run.stderr


def test_a_program_that_counts_its_objects_across_threads_replays(record, write_program):
    # greenlet's leak checks run a test until the count of live objects (objgraph, through
    # gc.get_objects) stops growing. Replayed, every thread the program had run left its
    # lock behind in our turn-taking: one more `lock` per round, where the recording had
    # none, and the check ran the test once more ("the program wrote other bytes").
    write_program("""
        import gc, threading, time
        from collections import Counter

        def census():
            gc.collect()
            return Counter(type(thing).__name__ for thing in gc.get_objects())

        def work():
            time.time()
            thread = threading.Thread(target=time.sleep, args=(0.001,))
            thread.start()
            thread.join()

        for _ in range(2):
            work()
        before = census()
        growth = []
        for _ in range(4):
            work()
            after = census()
            growth.append({name: after[name] - before[name] for name in after if after[name] > before[name]})
            before = after
        print("growth", growth[1:])
    """)
    run = record("program.py")  # the fixture verifies it
    assert run.stdout == "growth [{}, {}, {}]\n", run.stdout


def test_a_census_of_live_objects_sees_none_of_ours_while_another_thread_works(record, write_program):
    # The census above failed 1 CI run in 6: the recorder kept its last lock hand-off as a
    # tuple, and a real lock's acquire blocked with a tuple of arguments; made after the
    # program's gc.collect() by another thread, they counted in some censuses only. Replayed,
    # a thread waiting for its turn held the next event (a tuple too). Here the other
    # thread's lock traffic comes after the collection in every other round.
    write_program("""
        import gc, queue, threading, time
        from collections import Counter

        requests = queue.Queue()
        served = 0

        def serve():
            global served
            while requests.get():
                served += 1

        worker = threading.Thread(target=serve)
        worker.start()
        growth, before = [], None
        for round in range(1, 8):
            gc.collect()
            if round % 2:
                requests.put(True)
                while served < (round + 1) // 2:
                    pass
            time.time()
            after = Counter(type(thing).__name__ for thing in gc.get_objects())
            if before is not None:
                growth.append({name: after[name] - before[name] for name in after if after[name] > before[name]})
            before = after
        requests.put(False)
        worker.join()
        print("growth", growth[1:])
    """)
    run = record("program.py")  # the fixture verifies it
    assert run.stdout == "growth [{}, {}, {}, {}, {}]\n", run.stdout


def test_the_first_recording_after_an_edit_writes_bytecode_off_the_tape(record, write_program, tmp_path):
    # Importing a module without a current __pycache__ file writes one. Recorded, those
    # writes were events, which a replay (loading the module from the recording) never
    # asked for: the first recording of a fresh checkout, and the first after each edit,
    # diverged at once. Our own runs never saw it: they set PYTHONDONTWRITEBYTECODE.
    write_program("def value():\n    return 41\n", name="helper.py")
    write_program("""
        import time
        import helper
        print(helper.value() + 1, time.time() > 0)
    """)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_helper.py").write_text("import helper\n\n\ndef test_value():\n    assert helper.value() == 41\n")
    writing = {"PYTHONDONTWRITEBYTECODE": ""}
    run = record("program.py", env=writing)  # the fixture verifies each
    assert run.stdout == "42 True\n" and (tmp_path / "__pycache__").is_dir(), run.stderr
    tests = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", env=writing, name="pytest.retrace")
    assert tests.status == 0 and "1 passed" in tests.stdout, tests.stdout + tests.stderr
    assert list((tmp_path / "tests" / "__pycache__").glob("test_helper*.pyc")), "pytest wrote no cache"


def test_a_child_importing_from_a_folder_its_parent_wrote_and_removed_replays(record, write_program):
    # werkzeug's reloader tests: a module written to a temporary folder, a child Python
    # with that folder on PYTHONPATH, the folder removed once the child is done. The child
    # looked at the folder while it started (a finder made, its listing read) before
    # anything was patched; its replay found no folder there, importlib noted it as none,
    # and the child's import failed ("the tape expected importlib._path_stat(...), the
    # program asked for sys.stderr.write()").
    write_program("""\
        import os, shutil, subprocess, sys, tempfile

        folder = tempfile.mkdtemp()
        with open(os.path.join(folder, "written_helper.py"), "w") as handle:
            handle.write("VALUE = 7\\n")
        child = subprocess.run([sys.executable, "-c", "import written_helper; print(written_helper.VALUE)"],
                               env=dict(os.environ, PYTHONPATH=folder), capture_output=True, text=True)
        print("child", child.returncode, child.stdout.strip(), child.stderr.strip()[-200:])
        shutil.rmtree(folder)
    """)
    run = record("program.py")  # the fixture verifies every process
    assert run.stdout == "child 0 7 \n", run.stderr


def test_a_thread_polling_after_its_own_hand_off_replays_5_times(record, write_program):
    """trio's ``test_run_in_worker_thread_cancellation``: ``q.put(None)`` (lock hand-offs),
    then ``while register[0] != "finished": time.sleep(0.01)``, where the woken worker sets
    ``register[0]``. Recorded, the main thread ran on from its hand-off to its first look
    (it held the interpreter) before the worker's next event; a replay passed the turn at
    each hand-off, so the worker finished first and the main thread never slept: "the tape
    expected time.sleep(0.01), the program asked for threading.Thread.join()", every time.
    Running on after every hand-off made other programs diverge (anyio's), so the recording
    says where a thread did (``RAN_ON``). And the debugger replays it to its end.
    Four rounds: one diverged every time before. (With both cores busy, the interpreter may
    switch threads right after the hand-off's event is written, before the main thread looks;
    the recording cannot say where it then looked, and about 1 recording in 40 diverges:
    docs/replay.md, "Threads".)"""
    write_program("""
        import queue, threading, time

        register = [None]
        q = queue.Queue()

        def worker():
            register[0] = "blocking"
            q.get()
            register[0] = "finished"
            time.perf_counter()

        for round in range(4):
            register[0] = None
            thread = threading.Thread(target=worker)
            thread.start()
            while register[0] != "blocking":
                time.sleep(0.001)
            q.put(None)
            sleeps = 0
            while register[0] != "finished":
                time.sleep(0.01)
                sleeps += 1
            thread.join()
            print("round", round, "slept", sleeps > 0)
    """)
    run = record_and_verify(record, 5)
    assert run.stdout.count("slept") == 4, run.stdout
    at_end = cli("inspect", str(run.path), "--at", "end", timeout=300)
    assert at_end.status == 0 and "(target)" in at_end.stdout.splitlines()[0], at_end.stdout + at_end.stderr


def test_a_check_before_a_blocking_write_sees_what_it_saw_when_recorded(record, write_program):
    """execnet's ``test_channel_callback_error``: the main thread released a lock, checked
    ``isclosed()``, then sent; the receiver thread's events (a read, then marking the
    channel closed) were written while the send was still in progress. A replay passed the
    turn at the release, so the receiver marked the channel closed before the check ran:
    "cannot send", another path. The recording says the main thread ran on to its send
    first (``RAN_ON``), and the replay runs on there too."""
    write_program("""
        import os, threading

        lock = threading.Lock()
        for round in range(5):
            state = {"closed": False}
            r, w = os.pipe()

            def receiver():
                first = os.read(r, 65536)  # returns while the writer is still in its write
                state["closed"] = True
                with lock:
                    pass
                rest = len(first)
                while rest < 262144:
                    rest += len(os.read(r, 65536))

            thread = threading.Thread(target=receiver)
            thread.start()
            with lock:
                pass
            seen = state["closed"]
            os.write(w, b"x" * 262144)
            thread.join()
            os.close(r), os.close(w)
            print("round", round, "closed before the write:", seen)
    """)
    run = record_and_verify(record, 3)
    assert run.stdout.count("closed before the write: False") == 5, run.stdout


def test_double_checked_locking_replays_when_the_holder_takes_long(record, write_program):
    """boltons' ``funcutils.once``: a thread checks ``result`` without the lock, then blocks
    in ``acquire`` while the first caller runs the function for half a second. Recorded, it
    looked before the result was set; the ``RAN_ON`` record that says so was left out when
    the tape was flushed between the hand-off and the next thread's event, which is just
    what a thread that blocks gives the flusher time for. The replay parked the thread
    until its acquire's turn, it saw the result set and ended without the acquire ("the
    tape expected threading.Lock.acquire(), the program asked for thread.end()")."""
    write_program("""
        import threading, time

        def once(function):
            unset = object()
            lock = threading.Lock()
            result = unset

            def wrapper():
                nonlocal result
                if result is not unset:
                    return result
                with lock:
                    if result is not unset:
                        return result
                    result = function()
                    return result
            return wrapper

        for round in range(2):
            calls = []

            @once
            def slow():
                calls.append(1)
                time.sleep(0.3)  # longer than the flusher's interval
                return 99

            barrier = threading.Barrier(4)
            results = []

            def worker():
                barrier.wait()
                results.append(slow())

            threads = [threading.Thread(target=worker) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            print("round", round, len(calls), results)
    """)
    run = record_and_verify(record, 3)
    assert run.stdout.count("1 [99, 99, 99, 99]") == 2, run.stdout


def test_inotify_through_ctypes_replays(record, write_program):
    # watchdog's observer (and werkzeug's reloader): the inotify descriptor made through
    # ctypes was no event, so a replay made a real one with another number than the one the
    # recorded poll named, and skipped the read ("the tape expected os.read(5, 4096), the
    # program asked for sys.stdout.write()"). A callback prototype keeps working.
    write_program("""\
        import ctypes, os, select, tempfile

        libc = ctypes.CDLL(None)
        inotify_init = ctypes.CFUNCTYPE(ctypes.c_int, use_errno=True)(("inotify_init", libc))
        add_watch = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32,
                                     use_errno=True)(("inotify_add_watch", libc))
        folder = tempfile.mkdtemp()
        os.open(os.path.join(folder, "noise"), os.O_CREAT | os.O_WRONLY)  # not opened in a replay
        fd = inotify_init()
        watch = add_watch(fd, folder.encode(), 0x100)  # IN_CREATE
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        open(os.path.join(folder, "new.txt"), "w").close()
        if fd in [ready for ready, _ in poller.poll(2000)]:
            print("event", len(os.read(fd, 4096)) > 0, watch > 0, libc.inotify_rm_watch(fd, watch))
        os.close(fd)

        compare = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
        values = (ctypes.c_int * 4)(3, 1, 4, 2)
        libc.qsort.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, compare]
        callback = compare(lambda a, b: a[0] - b[0])
        libc.qsort(values, 4, ctypes.sizeof(ctypes.c_int), callback)
        print("sorted", list(values), isinstance(callback, compare))
    """)
    run = record("program.py")  # the fixture verifies it
    assert run.stdout == "event True True 0\nsorted [1, 2, 3, 4] True\n", run.stderr
    at_end = cli("inspect", str(run.path), "--at", "end", timeout=300)
    assert at_end.status == 0 and "(target)" in at_end.stdout.splitlines()[0], at_end.stdout + at_end.stderr
