"""Calls through ctypes in a program with threads (boundary/foreign_calls.py).

A foreign call lets the interpreter go, so the other threads run while it is in C: a
switch between threads that no event marked, until each such call became a mark on the
tape (``ctypes.ran.NAME``), where it returned.
"""
from conftest import cli, record_and_verify


def test_threads_that_leave_the_interpreter_in_c_replay_in_the_recorded_order(record, write_program):
    """trio renames a worker thread through ctypes after its job, then puts the worker back
    on its list of idle workers without a lock. Workers that ended their jobs together went
    back in another order when replayed, took the next jobs otherwise, and the replay
    diverged ("the recording acquired a lock here that another thread holds in replay").
    Here each worker sleeps in C for longer the sooner it printed, so the list's order is
    the reverse of the prints' (3 of 3 recordings diverged before)."""
    write_program("""
        import ctypes, ctypes.util, os, threading

        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        start = threading.Event()
        idle = []  # appended to without a lock
        guard = threading.Lock()

        def work(number):
            start.wait()
            os.write(1, f"worker {number} done\\n".encode())  # (print's buffer is shared: a race)
            libc.usleep(4000 * (6 - number))  # in C, without the interpreter: the others run
            idle.append(number)
            with guard:
                pass

        workers = [threading.Thread(target=work, args=(number,)) for number in range(6)]
        for thread in workers:
            thread.start()
        start.set()
        for thread in workers:
            thread.join()
        print("idle in the order", idle)
    """)
    run = record_and_verify(record, 3)
    assert run.stdout.count(" done\n") == 6 and "idle in the order [" in run.stdout, run.stdout + run.stderr
    marks = [event for event in run.tape().events if event.function == "ctypes.ran.usleep"]
    assert len(marks) == 6
    # The workers' lines race each other to the terminal (the tape has them in the order
    # the workers came back from the kernel, not the order the bytes went out); the list
    # they made, which the replay rebuilt, is the recorded one.
    replayed = cli("replay", str(run.path))
    assert replayed.status == 0 and sorted(replayed.stdout.splitlines()) == sorted(run.stdout.splitlines())
    assert replayed.stdout.splitlines()[-1] == run.stdout.splitlines()[-1]


def test_foreign_calls_before_any_thread_and_through_pythonapi_leave_no_mark(record, write_program):
    """Marks are only needed where another thread could run: none before the program's
    first thread, and none for ``pythonapi``'s functions, which keep the interpreter."""
    write_program("""
        import ctypes, ctypes.util, threading

        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        print("abs", libc.abs(-3))
        thread = threading.Thread(target=lambda: None)
        thread.start()
        thread.join()
        print("abs", libc.abs(-4), "size", ctypes.pythonapi.PyLong_AsLong(ctypes.py_object(7)))
    """)
    run = record("program.py")  # the fixture verifies it
    assert run.stdout == "abs 3\nabs 4 size 7\n", run.stdout + run.stderr
    marks = [event.function for event in run.tape().events if event.function.startswith("ctypes.ran.")]
    assert marks == ["ctypes.ran.abs"]
