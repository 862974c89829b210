"""The engine on a recording with threads: a breakpoint in a worker thread stops there,
stepping stays in that thread, the state lists every thread, and moves land at the same
place each time although no snapshot can be taken while several threads run."""
from conftest import TWO_WORKERS
from retrace_core.control.session import Session

PROGRAM = TWO_WORKERS


def line_of(text: str) -> int:
    return PROGRAM.splitlines().index(text) + 1


def test_breakpoint_next_and_state_in_a_worker_thread(record, write_program):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0, run.stderr
    program = str(run.path.parent / "program.py")
    loop_body = line_of("        total += step * factor")
    with Session(str(run.path)) as session:
        session.goto(1)
        session.set_breakpoint(program, loop_body)
        stop = session.continue_()
        assert (stop.line, stop.function) == (loop_body, "worker") and stop.thread in (1, 2)
        state = session.state()
        names = {thread["thread"]: thread["name"] for thread in state["threads"]}
        assert names[0] == "MainThread" and names[stop.thread] == f"worker-{stop.thread}"
        assert [t["current"] for t in state["threads"] if t["thread"] == stop.thread] == [True]
        assert next(local for local in state["frames"][0]["locals"] if local["name"] == "factor")["repr"] == \
            str(stop.thread)
        # Another thread's stack, on request.
        main = session.state(thread=0)
        assert main["shown_thread"] == 0 and main["frames"][0]["function"] == "<module>"
        # next stays in the thread and the function, whatever the others do meanwhile.
        session.clear_breakpoint(program, loop_body)
        lines = []
        for _ in range(4):
            step = session.next()
            assert (step.thread, step.function) == (stop.thread, "worker")
            lines.append(step.line)
        assert lines == [line_of("        time.sleep(0.001)"), line_of("    for step in range(3):"),
                         loop_body, line_of("        time.sleep(0.001)")]
        back = session.back()
        assert (back.thread, back.line) == (stop.thread, loop_body)
        # Every position replays to the same thread and line, however it is reached.
        # So do the threads listed there: the ones started and not yet ended, whether or
        # not a new thread's OS thread had begun to run (that listing used to vary).
        def listed():
            return [(thread["thread"], thread["name"]) for thread in session.state()["threads"]]

        seen = {}
        for position in range(1, session.index.end + 1):
            reached = session.goto(position)
            seen[position] = (reached.thread, reached.file, reached.line, listed())
        for position in sorted(seen, reverse=True):
            reached = session.goto(position)
            assert (reached.thread, reached.file, reached.line, listed()) == seen[position]
        assert {name for *_, threads in seen.values() for _number, name in threads} >= \
            {"MainThread", "worker-1", "worker-2"}


def test_a_move_into_a_stretch_where_threads_ran_says_why_it_was_slow(record, write_program):
    # No snapshot can be taken while a second thread runs (fork keeps only one thread),
    # so a move into that stretch replays from the snapshot before it, and says so.
    write_program("""
        import threading, time

        def count():
            total = 0
            for step in range(60000):
                total += step
            print(total)

        time.time()
        thread = threading.Thread(target=count)
        thread.start()
        thread.join()
        time.time()
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    with Session(str(run.path)) as session:
        (start, end), = session.index.threaded
        end = session.index.end if end is None else end  # None: threads ran on to the end
        assert end - start > 60000  # the stretch starts where the thread did
        session.goto(session.index.end)
        session.take_note()
        session.goto(end - 10)
        note = session.take_note()
        assert note is not None and note.startswith(f"threads ran from position {start}"), note
        assert session.take_note() is None  # said once
        assert session.stop.position == end - 10 and session.stop.thread == 1


def test_stopped_in_the_main_thread_the_state_lists_a_waiting_thread(record, write_program):
    # Found in an xdist worker: the inspection fork forgot every thread but the one that
    # forked, so a stop in the main thread listed no other thread.
    write_program("""
        import threading

        ready, go = threading.Event(), threading.Event()

        def waiter():
            ready.set()
            go.wait()

        thread = threading.Thread(target=waiter, name="waiter")
        thread.start()
        ready.wait()
        marker = 1
        go.set()
        thread.join()
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    program = str(run.path.parent / "program.py")
    with Session(str(run.path)) as session:
        session.goto(1)
        session.set_breakpoint(program, 13)
        stop = session.continue_()
        assert (stop.thread, stop.line) == (0, 13)
        state = session.state()
        assert [(t["thread"], t["name"], t["current"]) for t in state["threads"]] == \
            [(0, "MainThread", True), (1, "waiter", False)]
        waiting = session.state(thread=1)
        assert [frame["function"] for frame in waiting["frames"]][:1] == ["waiter"]
        assert waiting["frames"][0]["line"] == 8


def test_the_threads_listed_at_a_stop_are_the_same_in_every_session(record, write_program):
    # They used to follow the OS threads: a worker whose start event had been replayed
    # was listed or not depending on whether its OS thread had begun to run.
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0, run.stderr
    program = str(run.path.parent / "program.py")
    listings = []
    for _ in range(4):
        with Session(str(run.path)) as session:
            session.goto(1)
            session.set_breakpoint(program, line_of("        total += step * factor"))
            session.continue_()
            listings.append([(thread["thread"], thread["name"]) for thread in session.state()["threads"]])
    assert all(listing == listings[0] for listing in listings), listings


def test_inspecting_while_a_thread_waits_leaves_the_programs_warnings_alone(record, write_program):
    """From Python 3.12 ``os.fork()`` warns (DeprecationWarning) when the process has more
    than one thread, and every inspection is a fork. The warning went to the program: into
    pytest's warnings capture, whose summary then read our forking.py for the source line,
    a file read the tape did not have (filelock's suite: the engine diverged at event
    6,633 on 3.12). Here the program lists the warnings it caught after the stop."""
    write_program("""
        import threading, time, warnings

        done = threading.Event()
        waiter = threading.Thread(target=done.wait)
        waiter.start()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            stamp = time.time()
            marker = 1
        print("warnings", [str(warning.message) for warning in caught], flush=True)
        done.set()
        waiter.join()
    """)
    run = record("program.py")
    assert run.stdout == "warnings []\n", run.stderr
    program = str(run.path.parent / "program.py")
    with Session(str(run.path)) as session:
        session.goto(1)
        session.set_breakpoint(program, 10)
        stop = session.continue_()
        assert stop.line == 10
        assert [t["thread"] for t in session.state()["threads"]] == [0, 1]  # a fork with two threads
        session.clear_breakpoint(program, 10)
        end = session.continue_()  # on from this worker; raised EngineError: the replay diverged
        assert end.finished
        written = b"".join(data for fd, data in session.output_until(end.position) if fd == 1)
        assert written == b"warnings []\n"
