"""The time-travel engine on real recordings: every move agrees with plain forward stepping."""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from conftest import clean_environment
from retrace_core.boundary.fingerprints import without_addresses
from retrace_core.control.session import Session

PROGRAM = """
import time

class Account:
    def __init__(self, owner):
        self.owner = owner
        self.balance = 0

    def deposit(self, amount):
        self.balance += amount
        return self.balance


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    account = Account("ada")
    stamps = []
    for round_number in range(4):
        stamps.append(time.time())
        total = account.deposit(fib(round_number + 3))
        print("round", round_number, total, flush=True)
    return account.balance


print("balance", main())
"""


@pytest.fixture
def recording(record, write_program):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0, run.stderr
    return run


def where(session):
    """What the user sees at a stop. Object addresses are left out: they depend on what
    the engine itself allocated before (as they differ between recording and replay)."""
    state = session.state()
    top = state["frames"][0]
    return state["position"], top["file"], top["line"], top["function"], \
        sorted((local["name"], without_addresses(local["repr"].encode())) for local in top["locals"])


def test_goto_matches_stepping_forward_from_the_start(recording):
    with Session(str(recording.path)) as session:
        end = session.index.end
        assert end > 50
        sampled = set(random.Random(7).sample(range(1, end), 12)) | {end}
        stepped = {}
        session.goto(1)
        while True:
            if session.stop.position in sampled:
                stepped[session.stop.position] = where(session)
            if session.stop.position >= end:
                break
            session.step_into()
        assert set(stepped) == sampled
        for position in sorted(sampled, key=lambda p: random.Random(p).random()):
            session.goto(position)
            assert where(session) == stepped[position]


def test_back_next_back_into_and_breakpoints(recording):
    with Session(str(recording.path)) as session:
        end = session.index.end
        for position in random.Random(3).sample(range(20, end - 5), 6):
            before = session.goto(position)
            back = session.back()
            assert back.position < before.position and back.depth <= before.depth
            after = session.next()
            if back.depth == before.depth:
                assert after.position == before.position
            else:  # `before` was the first line of its function: back left it, next steps over the call
                assert after.position > before.position and after.depth <= back.depth
            session.goto(before.position)
            session.back_into()
            assert session.stop.position == before.position - 1
        program = str(recording.path.parent / "program.py")
        line = PROGRAM.splitlines().index("        self.balance += amount") + 1
        session.set_breakpoint(program, line)
        session.goto(1)
        hits = []
        while True:
            stop = session.continue_()
            if stop.finished:
                break
            hits.append(stop.position)
            assert (stop.line, stop.function) == (line, "deposit")
        assert len(hits) == 4
        session.goto(hits[2] + 3)
        assert session.reverse_continue().position == hits[2]
        session.goto(hits[2] + 3)
        assert session.continue_().position == hits[3]


def test_goto_event_and_output_until(recording):
    with Session(str(recording.path)) as session:
        clock_events = [e.number for e in session.tape.events if e.function == "time.time"]
        stop = session.goto_event(clock_events[2])
        assert stop.function == "main"
        written = b"".join(data for fd, data in session.output_until(stop.position) if fd == 1)
        assert written.decode().count("round") == 2


def test_a_repr_with_side_effects_changes_nothing(record, write_program):
    write_program("""
        import time
        class Sneaky:
            calls = 0
            def __repr__(self):
                Sneaky.calls += 1
                open("touched.txt", "w").write(str(time.time()))
                return f"Sneaky({Sneaky.calls})"
        thing = Sneaky()
        for i in range(3):
            print(i, Sneaky.calls, time.time() > 0)
    """)
    run = record("program.py")
    with Session(str(run.path)) as session:
        session.goto(session.index.end // 2)
        first = session.state()
        second = session.state()
        assert first == second
        assert not (run.path.parent / "touched.txt").exists()
        assert session.goto(session.index.end).position == session.index.end


def engine_processes(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if marker.encode() in handle.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def test_nothing_outlives_the_session(recording, tmp_path):
    session = Session(str(recording.path))
    marker = session._socket_path
    session.goto(session.index.end // 2)
    session.back()
    assert len(engine_processes(marker)) >= 2
    session.close()
    deadline = time.time() + 10
    while engine_processes(marker) and time.time() < deadline:
        time.sleep(0.05)
    assert engine_processes(marker) == []


def test_nothing_outlives_a_killed_controller(recording, tmp_path):
    script = tmp_path / "controller.py"
    script.write_text(
        "import sys, time\n"
        "from retrace_core.control.session import Session\n"
        f"session = Session({str(recording.path)!r})\n"
        "session.goto(session.index.end // 2)\n"
        "print(session._socket_path, flush=True)\n"
        "time.sleep(60)\n")
    controller = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                                  env=clean_environment())
    marker = controller.stdout.readline().strip()
    assert engine_processes(marker)
    controller.send_signal(signal.SIGKILL)
    controller.wait()
    deadline = time.time() + 10
    while engine_processes(marker) and time.time() < deadline:
        time.sleep(0.05)
    assert engine_processes(marker) == []


def test_goto_failure_lands_where_the_uncaught_exception_was_raised(record, write_program):
    write_program("""
        def check(total):
            expected = 5
            assert total == expected, "bad total"
        check(2 + 2)
    """)
    run = record("program.py")
    with Session(str(run.path)) as session:
        session.goto_failure()
        state = session.state()
    top = state["frames"][0]
    assert top["function"] == "check"
    locals_ = {local["name"]: local["repr"] for local in top["locals"]}
    assert locals_ == {"total": "4", "expected": "5", "assert left: total": "4", "assert right: expected": "5"}


def test_conditional_breakpoints_both_ways_and_a_condition_with_side_effects(recording):
    program = str(recording.path.parent / "program.py")
    line = PROGRAM.splitlines().index("        self.balance += amount") + 1
    with Session(str(recording.path)) as session:
        session.set_breakpoint(program, line, "amount == 5")
        session.goto(1)
        stop = session.continue_()
        assert (stop.line, stop.function) == (line, "deposit")
        assert session.evaluate("amount")["repr"] == "5"
        assert session.continue_().finished  # the only deposit of 5
        session.goto(session.index.end)
        assert session.reverse_continue().position == stop.position
        # A condition that changes the program's state runs in a throw-away fork.
        session.clear_breakpoint(program, line)
        session.set_breakpoint(program, line, "type(self).__dict__.get('poke') or setattr(type(self), 'poke', 1) "
                                              "or amount > 2")
        session.goto(1)
        hits = []
        while not (stop := session.continue_()).finished:
            hits.append(session.evaluate("amount")["repr"])
            assert session.evaluate("'poke' in type(self).__dict__")["repr"] == "False"
        assert hits == ["3", "5", "8"]
        # A condition that fails to evaluate stops, as in pdb.
        session.breakpoints = []
        session.set_breakpoint(program, line, "no_such_name > 1")
        session.goto(1)
        assert session.continue_().line == line


def test_cancel_stops_a_move_and_the_session_goes_on(recording):
    import threading

    with Session(str(recording.path)) as session:
        session.goto(10)
        session.set_breakpoint("/nowhere.py", 1)
        timer = threading.Timer(0.2, session.cancel)
        # Make the move slow enough to cancel: a condition at every line of the run.
        program = str(recording.path.parent / "program.py")
        for line in range(1, len(PROGRAM.splitlines()) + 1):
            session.set_breakpoint(program, line, "sum(range(400_000)) < 0")
        timer.start()
        with pytest.raises(Exception) as raised:
            session.continue_()
        assert type(raised.value).__name__ == "Cancelled"
        session.breakpoints = []
        assert session.goto(12).position == 12


def test_a_small_snapshot_budget_never_kills_the_active_worker(record, write_program):
    """Thinning drops snapshots while a worker forked from one of them runs; that worker
    dies with its parent, so its parent must be kept (the engine bench once lost a
    quarter of its moves to this)."""
    from retrace_core.control.snapshots import SnapshotPolicy

    write_program("""
        def step(value):
            return (value * 7 + 3) % 1000

        value = 1
        for round_number in range(600_000):
            value = step(value)
        print(value)
    """)
    run = record("program.py")
    with Session(str(run.path), policy=SnapshotPolicy(limit=3)) as session:
        end = session.index.end
        assert len(session._snapshots) <= 4
        chooser = random.Random(11)
        for _ in range(12):
            position = chooser.randrange(10, end)
            stop = session.goto(position)
            assert stop.position == position
            back = session.back()
            assert back.position < position
            assert session.next().position >= position
        assert session.workers_lost == 0



def test_a_move_from_a_snapshot_that_is_gone_takes_the_one_before(record, write_program):
    """A snapshot gone before its fork says hello (killed; or, while the move waited,
    thinned or replaced by a late hello of a snapshot the old worker took): the move
    waited ten minutes for that hello. It forgets the snapshot and forks the one before."""
    write_program("""
        value = 1
        for round_number in range(300_000):
            value = (value * 7 + 3) % 1000
        print(value)
    """)
    run = record("program.py")
    with Session(str(run.path)) as session:
        session.goto(session.index.end)
        older, newer = sorted(p for p in session._snapshots if p > 1)[-2:]
        killed = session._snapshots[newer].pid
        os.kill(killed, signal.SIGKILL)
        started = time.monotonic()
        assert session.goto(newer + 5).position == newer + 5
        assert time.monotonic() - started < 60 and session.workers.worker_parent == older
        assert killed not in [snapshot.pid for snapshot in session._snapshots.values()]


def test_a_signal_timer_that_never_fired_when_recorded_does_not_fire_in_the_debugger(record, write_program):
    """pytest-timeout's signal method arms a SIGALRM timer around each test. Replayed, the
    timer was armed for real, and the debugger's replay, slower under its tracer, outran
    it: the handler ran where it never ran when recorded (tqdm's suite under the engine:
    the handler dumped every thread's stack, a divergence that `verify` did not see). Here
    the loop runs 0.6 of the timer's second by the (recorded) clock, so a loaded machine
    records fewer steps instead of meeting the timer; the replay takes as many steps,
    which under the tracer takes longer than the timer."""
    write_program("""
        import signal
        import time

        def timed_out(signum, frame):
            raise TimeoutError("timed out")

        def step(number):
            return number + 1

        signal.signal(signal.SIGALRM, timed_out)
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        deadline = time.perf_counter() + 0.6
        total = 0
        while time.perf_counter() < deadline:
            for _ in range(10_000):
                total = step(total)
        left = signal.setitimer(signal.ITIMER_REAL, 0)[0]
        print("finished before the timer", left > 0, total > 0)
    """)
    run = record("program.py")
    assert run.stdout == "finished before the timer True True\n", run.stderr
    with Session(str(run.path)) as session:
        assert session.index.divergence is None, session.index.divergence["message"]
        assert session.goto(session.index.end).position == session.index.end
