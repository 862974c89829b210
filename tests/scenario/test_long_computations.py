"""A thread that computes long between two events, while another waits for its turn.

A replayed thread waits for its turn no longer than the turn timeout (20 s) without any
event taken: a thread sent elsewhere by a race must end as a report, never a hang. But a
thread working long with no boundary call (a hash, a sort, a loop of arithmetic) takes no
event either, and the replay, slower under the engine's tracer or on a loaded machine,
reported it as a stall ("the tape expected thread.end() in thread 1, the program asked
for threading.Thread.join() in thread 0") where the recording had simply waited. The wait
now goes on while the thread whose turn it is uses the CPU (up to 30 timeouts).
"""
import textwrap

from conftest import cli
from retrace_core.control.session import Session

PROGRAM = """
    import threading

    results = []

    def work():
        total = 0
        for i in range(12_000_000):  # about a second plain, with no boundary call
            total += i
        results.append(total)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    print(results)
"""
PRINTED = "[71999994000000]\n"


def test_a_join_waiting_longer_than_the_turn_timeout_for_a_computing_thread_replays(record, write_program):
    write_program(PROGRAM)
    run = record("program.py", verify_after=False)
    assert (run.status, run.stdout) == (0, PRINTED), run.stderr
    verdict = cli("verify", str(run.path), env={"RETRACE_TURN_TIMEOUT": "0.3"}, timeout=120)
    assert verdict.status == 0, verdict.stdout + verdict.stderr
    assert verdict.stdout.startswith("matched"), verdict.stdout


def test_the_engine_follows_a_computing_thread_past_the_turn_timeout(record, write_program, monkeypatch):
    write_program(PROGRAM)
    run = record("program.py", verify_after=False)
    monkeypatch.setenv("RETRACE_TURN_TIMEOUT", "1")  # the traced loop takes some 3 s here
    with Session(str(run.path)) as session:
        assert session.index.divergence is None, session.index.divergence["message"]
        assert session.index.exit_status == 0
        assert session.goto(session.index.end).position == session.index.end


MAIN_COMPUTES = """
    import threading

    def work(n):
        total = 0
        for i in range(n):
            total += i
        return total

    for k in range(40):  # one thread: the engine takes its snapshots here
        work(20_000)
    done = threading.Event()
    waiter = threading.Thread(target=done.wait)
    waiter.start()
    total = work(8_000_000)  # the main thread's turn, long, while the waiter waits for its own
    done.set()  # the set line
    waiter.join()
    print(total)
"""


def test_a_worker_started_from_a_snapshot_waits_for_its_computing_main_thread(record, write_program, monkeypatch):
    """The main thread's kernel thread id was noted when the replay started; a worker forked
    from a snapshot is another process, whose main thread has the fork's pid: its CPU time
    could not be read there, and a traced move through its long computation was reported
    as a stall ("the tape expected threading.Lock.acquire() in thread 0, the program asked
    for threading.Lock.acquire() in thread 1")."""
    path = write_program(MAIN_COMPUTES)
    run = record("program.py", verify_after=False)
    assert run.stdout == "31999996000000\n", run.stderr
    monkeypatch.setenv("RETRACE_TURN_TIMEOUT", "0.3")
    with Session(str(run.path)) as session:
        assert session.index.divergence is None, session.index.divergence["message"]
        session.goto(session.index.end // 100)  # a worker forked from an early snapshot
        set_line = textwrap.dedent(MAIN_COMPUTES).splitlines().index("done.set()  # the set line") + 1
        session.set_breakpoint(str(path), set_line)
        stop = session.continue_()  # traced, through the computation
        assert (stop.reason, stop.line) == ("breakpoint", set_line)
