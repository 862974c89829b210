"""Under the engine the program's objects die when they died recorded.

A snapshot is taken at a line inside a function; the engine kept that frame after the
program ran on, so the function's locals outlived its return, and a finalizer that makes a
boundary call (urllib3's pool closing its connections through a lock and a socket close)
ran later than recorded: the engine diverged where verify matched (requests: "the tape
expected threading.Lock.acquire(), the program asked for os.dup2(6, 1)"; E3 in
docs/compatibility.md).
"""
import json

from conftest import cli

FINALIZER_AT_RETURN = """\
import time, weakref


class Pool:
    pass


def use():
    pool = Pool()
    weakref.finalize(pool, time.monotonic)  # runs when use() returns: pool's last reference
    for i in range(3000):  # long enough for the engine to take snapshots in here
        x = i * 2
    return 1


for i in range(20):
    use()
    time.time()
print("ok")
"""


def test_a_local_dies_at_its_functions_return_under_the_engine(record, write_program):
    write_program(FINALIZER_AT_RETURN)
    run = record("program.py")
    assert (run.status, run.stdout) == (0, "ok\n")
    at_end = cli("inspect", str(run.path), "--at", "end", "--json")
    assert at_end.status == 0, at_end.stdout + at_end.stderr
    state = json.loads(at_end.stdout)
    assert state["position"] == state["end"] and "divergence" not in state
