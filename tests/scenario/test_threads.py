"""Threads: which thread reaches the boundary when is recorded, and replay keeps to it.

Each thread gets a logical id in creation order (the main thread is 0). Every boundary
call, every lock hand-off (locks, RLock, and with them Condition, Event, Semaphore,
queue.Queue) and every Thread.join is an event of its thread, so the tape holds the order
in which the threads took their turns; replay lets one thread run at a time, each when
its turn comes. Programs whose threads talk only through those replay exactly, which is
checked by recording and verifying each one many times in a row: a replay that is right
only when the scheduling is lucky fails somewhere in twenty runs. A data race in pure
Python is not replayable; it must end as a divergence report naming every thread's
stack, never as a hang or a silent difference.
"""

from conftest import assert_replay_prints_what_the_recording_printed, cli, printed, record_and_verify


def test_a_thread_pool_records_and_verifies_20_times(record, write_program):
    write_program("""
        import concurrent.futures, random, threading, time

        def work(n):
            time.sleep(random.random() / 500)
            return n * n, threading.current_thread().name, time.time()

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(work, range(16)))
            first = pool.submit(work, 100)
            done, _ = concurrent.futures.wait([first, pool.submit(work, 101)])
        print("squares", sum(square for square, _, _ in results))
        print("done", sorted(future.result()[0] for future in done))
        print("workers", sorted({name for _, name, _ in results}))
        print("clocks", [clock for _, _, clock in results])  # as the recording read them
    """)
    run = record_and_verify(record, 20)
    lines = printed(run, literal=False)
    assert lines["squares"] == str(sum(n * n for n in range(16)))
    assert lines["done"] == "[10000, 10201]"
    assert_replay_prints_what_the_recording_printed(run)


def test_an_http_server_thread_serving_the_main_thread_records_and_verifies_20_times(record, write_program):
    write_program("""
        import http.server, threading, urllib.request

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"{self.path} from {threading.current_thread().name}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *arguments):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serving = threading.Thread(target=server.serve_forever, name="server")
        serving.start()
        for index in range(4):
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/page{index}") as reply:
                print("got", reply.status, reply.read().decode())
        server.shutdown()
        serving.join()
        print("stopped", serving.is_alive())
    """)
    run = record_and_verify(record, 20)
    assert run.stdout.count("got 200 /page") == 4 and "stopped False" in run.stdout
    assert_replay_prints_what_the_recording_printed(run)


def test_producers_and_consumers_over_a_queue_record_and_verify_20_times(record, write_program):
    write_program("""
        import queue, random, threading, time

        jobs, results = queue.Queue(maxsize=3), queue.Queue()

        def produce(name, count):
            for index in range(count):
                jobs.put((name, index, random.random()))

        def consume():
            while (job := jobs.get()) is not None:
                results.put((job[0], job[1], threading.current_thread().name, time.monotonic()))
                jobs.task_done()
            jobs.task_done()

        producers = [threading.Thread(target=produce, args=(name, 12)) for name in "ab"]
        consumers = [threading.Thread(target=consume, name=f"consumer-{n}") for n in range(2)]
        for thread in producers + consumers:
            thread.start()
        for thread in producers:
            thread.join()
        for _ in consumers:
            jobs.put(None)
        jobs.join()
        for thread in consumers:
            thread.join()
        taken = [results.get() for _ in range(results.qsize())]
        print("count", len(taken))
        print("by", [(name, index, who) for name, index, who, _ in taken])  # the recorded interleaving
    """)
    run = record_and_verify(record, 20)
    assert printed(run, literal=False)["count"] == "24"
    assert_replay_prints_what_the_recording_printed(run)


def test_condition_event_semaphore_and_rlock_hand_offs_replay_the_recorded_interleaving(record, write_program):
    # The shared list is written under locks only, so its order is the order of the
    # lock hand-offs, which differs from run to run and must replay as recorded.
    write_program("""
        import threading

        order, lock, reentrant = [], threading.Lock(), threading.RLock()
        ready, gate, slots = threading.Condition(), threading.Event(), threading.Semaphore(2)
        waiting = 0

        def work(name):
            global waiting
            with ready:
                waiting += 1
                ready.notify_all()
            gate.wait()
            with slots:
                for step in range(3):
                    with reentrant:
                        with reentrant:
                            with lock:
                                order.append(f"{name}{step}")

        threads = [threading.Thread(target=work, args=(name,)) for name in "abcd"]
        for thread in threads:
            thread.start()
        with ready:
            ready.wait_for(lambda: waiting == 4)
        gate.set()
        for thread in threads:
            thread.join()
        print("order", order)
    """)
    run = record_and_verify(record, 10)
    assert sorted(printed(run)["order"]) == sorted(f"{name}{step}" for name in "abcd" for step in range(3))
    assert_replay_prints_what_the_recording_printed(run)


def test_logical_thread_ids_follow_creation_order_including_threads_started_by_threads(record, write_program):
    write_program("""
        import threading, time

        def leaf():
            time.time()

        def parent():
            time.time()
            child = threading.Thread(target=leaf)
            child.start()
            child.join()

        first = threading.Thread(target=parent)
        first.start()
        first.join()
        second = threading.Thread(target=leaf)
        second.start()
        second.join()
        time.time()
    """)
    run = record_and_verify(record, 3)
    clock_threads = [event.thread for event in run.tape().events if event.function == "time.time"]
    # parent is 1 and reads the clock; its child is 2; the second thread of main is 3.
    assert clock_threads == [1, 2, 3, 0]


def test_a_thread_polling_a_status_another_sets_under_a_lock_replays_10_times(record, write_program):
    """Found in pebble's pool (and trio's tests): a manager thread loops ``while
    context.alive: ...; time.sleep(...)`` while the main thread sets the status under a
    lock. Recorded, what a thread does after a call runs right after it (the thread holds
    the interpreter until its next call); the replay ran it right before the thread's next
    event instead, after the main thread had set the status, so the loop ended one round
    early: 5 of 5 recordings diverged ("the tape expected time.sleep(0.005), the program
    asked for sys.stdout.write()")."""
    write_program("""
        import threading, time

        class Context:
            def __init__(self):
                self.status = "running"
                self.mutex = threading.RLock()

            @property
            def alive(self):
                return self.status != "stopped"

        context = Context()

        def manager():
            rounds = 0
            while context.alive:
                rounds += 1
                time.sleep(0.005)
            print("manager stopped", rounds > 0)

        thread = threading.Thread(target=manager)
        thread.start()
        time.sleep(0.05)
        with context.mutex:
            context.status = "stopped"
        thread.join()
        print("done")
    """)
    run = record_and_verify(record, 10)
    assert run.stdout == "manager stopped True\ndone\n"


def test_a_data_race_is_reported_as_a_divergence_with_every_threads_stack(record, write_program):
    # The main thread spins on a flag another thread sets, with no ordering point in
    # between: how far it counts depends on the scheduling, which no tape can replay.
    write_program("""
        import threading, time

        flag, spins = False, 0
        release = threading.Event()

        def setter():
            global flag
            time.sleep(0.02)
            flag = True
            release.wait()

        helper = threading.Thread(target=setter, name="setter")
        helper.start()
        while not flag:
            spins += 1
        print("spins", spins, flush=True)  # written now, while the setter waits
        release.set()
        helper.join()
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0, run.stderr
    verdict = cli("verify", str(run.path), env={"RETRACE_TURN_TIMEOUT": "3"}, timeout=60)
    assert verdict.status == 1, verdict.stdout + verdict.stderr
    report = verdict.stdout + verdict.stderr
    assert "diverged" in report
    # Both threads' stacks: the main thread where it printed, the setter where it waits.
    assert "thread 0" in report and "thread 1" in report, report
    assert "program.py" in report and "setter" in report, report


def test_threads_found_by_enumerate_are_the_recorded_ones(record, write_program):
    """Found in anyio's suite (it joins the worker threads it finds in
    ``threading.enumerate()``): which threads are still listed is timing, and a replay found
    fewer, joined fewer, and diverged (3 times in 3 here: "the tape expected
    threading.Thread.join(), the program asked for sys.stdout.write()")."""
    write_program("""
        import threading, time

        def work(seconds):
            time.sleep(seconds)

        for round in range(20):
            threads = [threading.Thread(target=work, args=(0.002 * (i + 1),), name=f"worker") for i in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(0.003)  # some workers have ended by now, some not
            found = [t for t in threading.enumerate() if t.name == "worker"]
            for thread in found:
                thread.join()
            print(round, len(found), threading.active_count())
            for thread in threads:
                thread.join()
    """)
    run = record_and_verify(record, 3)
    assert run.status == 0 and len(run.stdout.splitlines()) == 20, run.stderr
    assert_replay_prints_what_the_recording_printed(run)


def test_the_engine_asks_for_the_thread_count_without_an_event(record, write_program):
    """The engine's own question (is the program single-threaded, before it runs without
    the tracer) called ``threading.active_count()``, an event once that became one: the
    engine diverged where verify matched (cachetools and requests, "the tape expected
    os.dup2(6, 1), the program asked for threading.active_count()")."""
    write_program("""
        import threading, time
        thread = threading.Thread(target=time.sleep, args=(0.001,))
        thread.start()
        thread.join()
        total = 0
        for i in range(20000):
            total += int(time.time()) % 7
            for j in range(50):
                total += j
        print("done", total > 0)
    """)
    run = record("program.py")
    assert run.stdout == "done True\n", run.stderr
    inspected = cli("inspect", str(run.path), "--at", "end")
    assert inspected.status == 0 and "diverged" not in inspected.stdout + inspected.stderr, inspected.stdout


def test_a_closed_sockets_number_is_free_when_the_next_thread_opens_a_file(record, write_program):
    """The interpreter's traceback printer opens the source file (recorded) and then seeks
    on its descriptor itself. A replayed file's descriptor is /dev/null put on the recorded
    number; the socket closed just before still held that number in the replay, because
    the closing thread let the turn pass before letting its stand-in's fd go: "the tape
    expected file.read(4, 8192), the program asked for file.close(4)" (twice in two)."""
    write_program("""
        import socket, sys, threading, time

        ours, theirs = socket.socketpair()

        def worker():
            time.sleep(0.05)  # the main thread closes ours meanwhile
            try:
                raise ValueError("from the worker")
            except ValueError:
                sys.excepthook(*sys.exc_info())  # the printer opens this file, on the number ours had

        thread = threading.Thread(target=worker)
        thread.start()
        ours.close()
        thread.join()
        theirs.close()
        print("done")
    """)
    run = record_and_verify(record, 2)
    assert run.stdout == "done\n" and "ValueError: from the worker" in run.stderr, run.stderr
    assert_replay_prints_what_the_recording_printed(run)


def test_a_joined_thread_reads_as_stopped_in_the_replay_too(record, write_program):
    """A replayed ``join`` answered from the tape without waiting for the real thread, which
    had taken its last event but was still ending: ``repr(thread)`` read "started" where the
    recording read "stopped" (a write of another length: a divergence), and so did every
    state the thread's end sets."""
    write_program("""
        import threading

        def work(n):
            return n * 2

        for round in range(30):
            threads = [threading.Thread(target=work, args=(i,), name=f"worker-{i}") for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            print(round, [repr(thread).split(",")[1].split()[0] for thread in threads])
        alive = threading.Thread(target=work, args=(9,))
        alive.start()
        while alive.is_alive():
            pass
        print("ended", repr(alive).split(",")[1].split()[0])
    """)
    run = record_and_verify(record, 3)
    assert run.stdout.count("['stopped', 'stopped']") == 30 and "ended stopped" in run.stdout, run.stderr
    assert_replay_prints_what_the_recording_printed(run)


def test_a_thread_spinning_on_its_own_state_that_another_sets_replays(record, write_program):
    """multiprocessing.Pool's handler threads loop on ``threading.current_thread()._state``,
    which ``terminate()`` sets from the main thread with no lock. Recorded, the task handler
    read RUN and sent its task; replayed, the main thread (whose events did not wait for the
    handler's) had already set TERMINATE, and the handler left its loop at once (a Pool
    used with ``with`` diverged 2 in 60 recordings under load). Here the spinning thread
    counts its rounds, which the replay gave otherwise every time."""
    write_program("""
        import threading, time

        def spin():
            me, rounds = threading.current_thread(), 0
            while me._state == "run":
                rounds += 1
            print("rounds", rounds, flush=True)

        thread = threading.Thread(target=spin)
        thread._state = "run"
        thread.start()
        time.sleep(0.01)
        thread._state = "stop"
        thread.join()
        print("plain thread", hasattr(threading.main_thread(), "_state"))
    """)
    run = record("program.py")  # the fixture verifies it
    assert run.status == 0, run.stderr
    assert run.stdout.startswith("rounds ") and run.stdout.endswith("plain thread False\n")
    assert_replay_prints_what_the_recording_printed(run)


def test_a_daemon_thread_blocked_in_a_call_at_the_exit_replays(record, write_program):
    """A Manager's server process ends while its accepter thread (a daemon) waits in
    ``accept()``, a call with no event since it never returned. Replayed, the accepter
    asked for that call once every event was taken, while the main thread still ran
    towards its exit: "replay asked for socket.socket.accept(6) after the last recorded
    event". Here the main thread computes a while after its last event, and the daemon
    reader asks for its next read once every event is taken."""
    write_program("""
        import os, threading, time

        readable, writable = os.pipe()

        def reader():
            while True:
                got = os.read(readable, 1)
                total = sum(number * number for number in range(200_000))
                print("read", got, flush=True)  # the recording's last event

        threading.Thread(target=reader, daemon=True).start()
        os.write(writable, b"x")
        total = sum(number * number for number in range(2_000_000))
    """)
    # Where the reader's read was recorded before the main thread's write, the replayed
    # reader waited for its print's turn inside stdout's lock while the main thread, past
    # its last line, waited for that lock to flush stdout: 2 s until the turn was handed
    # over. A turn timeout below that reports the wait as a stall.
    for attempt in range(3):
        run = record("program.py", name=f"run-{attempt}.retrace", verify_after=False)
        assert (run.status, run.stdout) == (0, "read b'x'\n"), run.stderr
        verdict = cli("verify", str(run.path), env={"RETRACE_TURN_TIMEOUT": "1.5"})
        assert verdict.status == 0, verdict.stdout + verdict.stderr
    assert_replay_prints_what_the_recording_printed(run)


def test_a_thread_never_started_is_not_alive_in_the_replay_either(record, write_program):
    """watchdog's observer asks ``is_alive()`` of a thread it has not started: the replay
    waited for that thread's end with ``join()``, which raised "cannot join thread before
    it is started", and the program took another path (watchdog's suite diverged)."""
    write_program("""
        import threading

        worker = threading.Thread(target=print, args=("ran",))
        worker.start()
        worker.join()
        never = threading.Thread(target=print)
        print("alive", never.is_alive(), worker.is_alive())
    """)
    run = record_and_verify(record, 2)
    assert "alive False False" in run.stdout
    assert_replay_prints_what_the_recording_printed(run)
