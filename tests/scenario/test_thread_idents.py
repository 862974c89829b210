"""Thread idents: in a replay every thread has the numbers it had when recorded.

A thread's ident (``threading.get_ident()``, the address of its pthread structure) and its
native id (the kernel's) differ from run to run. A program that keeps one and compares it
later, or writes it (``%(thread)d`` in a log line), must see the recorded one in a replay,
and C functions that take an ident must still get the real thread's.
"""

import json

from conftest import assert_replay_prints_what_the_recording_printed, record_and_verify, verify


def test_a_thread_ident_kept_in_a_database_matches_the_thread_in_the_replay(record, write_program):
    """Found in diskcache (V20): its ``RLock`` recipe keeps ``f"{pid}-{get_ident()}"`` in its
    SQLite cache and compares it with ``get_ident()`` on release. The cache's answer is the
    recording's, the ident was the replay's own: "cannot release un-acquired lock", and the
    replay diverged. Every number a thread has (ident, native id, the keys of
    ``sys._current_frames()``, ``%(thread)d`` in a log line) is now the recorded one."""
    write_program("""
        import logging, os, sqlite3, sys, tempfile, threading

        logging.basicConfig(format="%(thread)d %(message)s", level=logging.INFO, stream=sys.stdout)
        database = sqlite3.connect(os.path.join(tempfile.mkdtemp(), "owners.db"), check_same_thread=False)
        database.execute("create table owner (name text, value text)")
        guard = threading.Lock()

        def mine():
            return f"{os.getpid()}-{threading.get_ident()}"

        def work(name):
            with guard:  # and so is the output: two threads writing one stream unlocked race
                database.execute("insert into owner values (?, ?)", (name, mine()))
                logging.info("%s took it", name)
            with guard:
                (owner,), = database.execute("select value from owner where name = ?", (name,)).fetchall()
                print(name, "releases its own:", owner == mine(), threading.current_thread().ident == threading.get_ident(),
                      threading.get_ident() in sys._current_frames())

        workers = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        work("main")
        print("main ids:", threading.main_thread().ident == threading.get_ident(),
              threading.main_thread().native_id == threading.get_native_id() == os.getpid())
        print("idents", sorted(thread.ident for thread in workers), [thread.native_id for thread in workers])
    """)
    run = record_and_verify(record, 3)
    assert run.stdout.count("releases its own: True True True") == 4, run.stdout + run.stderr
    assert "main ids: True True" in run.stdout
    verdict = json.loads(verify(run.path).stdout)
    assert verdict["matched"] and verdict["address_differences"] == 0, verdict
    assert_replay_prints_what_the_recording_printed(run)


def test_c_functions_given_a_thread_ident_get_the_real_thread_in_the_replay(record, write_program):
    """trio names each worker thread with ``pthread_setname_np(thread.ident, ...)`` through
    ctypes. Handed the recorded ident, a pointer into the recording's address space, the
    replay died of SIGSEGV; C functions that take a thread (through a library's attribute,
    a prototype, ``ctypes.pythonapi`` or ``signal.pthread_kill``) now get the real one."""
    write_program("""
        import ctypes, ctypes.util, signal, threading

        libpthread = ctypes.CDLL(ctypes.util.find_library("pthread"))
        setname = libpthread.pthread_setname_np
        setname.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        prototype = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_size_t)
        getname = prototype(("pthread_getname_np", libpthread))
        ready, done = threading.Event(), threading.Event()

        def work():
            ready.set()
            done.wait()

        threads = [threading.Thread(target=work, name=f"worker-{i}") for i in range(3)]
        for thread in threads:
            thread.start()
        ready.wait()
        for number, thread in enumerate(threads):
            print("set", setname(thread.ident, f"named-{number}".encode()))
            buffer = ctypes.create_string_buffer(16)
            print("got", getname(thread.ident, buffer, 16), buffer.value)
            signal.pthread_kill(thread.ident, 0)  # signal 0: is the thread there
        print("async exc", ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threads[0].ident), None))
        done.set()
        for thread in threads:
            thread.join()
        print("done")
    """)
    run = record_and_verify(record, 3)
    assert run.stdout.count("set 0") == 3 and "got 0 b'named-2'" in run.stdout, run.stdout + run.stderr
    assert "async exc 1" in run.stdout and run.stdout.endswith("done\n")
    assert_replay_prints_what_the_recording_printed(run)
