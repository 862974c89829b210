"""The engine runs inside the program's process: its callbacks on the program's stack,
inside its lines and calls, its sockets under the program's settings. Neither may change
what the other meets."""
import time

import pytest

from retrace_core.control.session import Session
from retrace_core.trace.ctracer import MONITORING

# The engine's tracers; not the Python reference, whose trace function is itself a frame on
# the program's stack (the program then meets its limit a frame sooner than recorded).
TRACERS = ["c"] + (["settrace"] if MONITORING else [])

DEEP = """
import sys

def depth_left(n=0):
    try:
        return depth_left(n + 1)
    except RecursionError:
        return n

def down(n, target):
    if n < target:
        return down(n + 1, target)
    total = 0
    for i in range(300_000):
        total += i  # the loop line
    return total

room = depth_left()
print("room", room)
print("total", down(0, room - 3))
"""


@pytest.mark.parametrize("tracer", TRACERS)
def test_a_program_running_three_frames_below_its_recursion_limit_is_followed_and_inspected(
        record, write_program, tracer):
    """The indexing pass offers a snapshot every so many lines; one that fell on a line
    three frames below the limit raised RecursionError in our fork and message code, the
    program took it for its own, and the replay diverged at its next write ("the tape
    expected sys.stdout.write(b'total'), the program asked for sys.stderr.write()"), in
    the engine only: `verify` matched."""
    path = write_program(DEEP)
    run = record("program.py")
    room = int(run.stdout.split()[1])
    assert run.stdout.splitlines()[1] == "total 44999850000"
    loop_line = DEEP.splitlines().index("        total += i  # the loop line") + 1
    with Session(str(run.path), tracer=tracer) as session:
        assert session.index.divergence is None, session.index.divergence["message"]
        assert session.goto(session.index.end).position == session.index.end
        assert session.index.exit_status == 0
        session.set_breakpoint(str(path), loop_line)
        session.goto(0)
        stop = session.continue_()
        assert (stop.reason, stop.line) == ("breakpoint", loop_line)
        assert session.evaluate("n")["repr"] == str(room - 3)
        assert session.evaluate("sum(range(10))")["repr"] == "45"  # an evaluation at that depth


def test_snapshots_and_workers_outlive_the_programs_default_socket_timeout(record, write_program):
    """A snapshot connects to the controller from the program's process, after the program
    ran ``socket.setdefaulttimeout()`` (network test suites do): its socket took the
    timeout, and every snapshot and worker that waited longer for an order took the
    timeout for the controller's end and exited. Each move then replayed from the start."""
    write_program("""
        import socket
        socket.setdefaulttimeout(0.2)

        def work(n):
            total = 0
            for i in range(n):
                total += i
            return total

        for k in range(40):
            work(20000)
        print("done", socket.getdefaulttimeout())
    """)
    run = record("program.py")
    assert run.stdout == "done 0.2\n"
    with Session(str(run.path)) as session:
        assert session.index.divergence is None, session.index.divergence["message"]
        time.sleep(1)  # longer than the program's timeout, idle
        third = session.goto(session.index.end // 3)
        time.sleep(1)
        assert session.evaluate("k")["repr"].isdigit()  # the worker answers after its idle time
        assert session.goto(session.index.end // 5).position == session.index.end // 5
        assert third.position == session.index.end // 3 and session.workers_lost == 0


def test_a_snapshot_taken_while_asyncio_events_is_half_imported(record, write_program):
    """A snapshot (a fork) puts back what at-fork handlers reset, asyncio's running loop among
    them, and read it with ``asyncio.events._get_running_loop()``. pytest's import hook runs
    program lines in the middle of ``asyncio.events``' own import, where the module is in
    ``sys.modules`` with only its first names: a snapshot offered there raised
    AttributeError into the replayed pytest, which died loading its plugins (the TUI tests'
    rare "the tape expected io.open(...entry_points.txt), the program asked for
    os.isatty(2)"). Here the program puts such a module in place itself."""
    write_program("""
        import sys
        import types
        import asyncio.events

        real = sys.modules["asyncio.events"]
        sys.modules["asyncio.events"] = types.ModuleType("asyncio.events")  # nothing defined yet

        def work(n):
            total = 0
            for i in range(n):
                total += i
            return total

        for k in range(100):
            work(5000)
        sys.modules["asyncio.events"] = real
        print("done")
    """)
    run = record("program.py")
    assert run.stdout == "done\n"
    with Session(str(run.path)) as session:
        assert session.index.divergence is None, session.index.divergence["message"]
        assert session.goto(session.index.end // 2).position == session.index.end // 2
        assert session.evaluate("k")["repr"].isdigit()  # an inspection (a fork) works there too
