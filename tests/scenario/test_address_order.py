"""Sets of objects without a __hash__ of their own iterate alike recorded and replayed
(core/bootstrap/stable_hashes.py, csrc/hashes.c): aiohttp's connections, asyncio's tasks
and sqlalchemy's requirement predicates decided the order of boundary calls so."""
import json

import pytest

from conftest import cli, record_and_verify

# Each round makes a set of fresh objects between two clock reads and makes a boundary
# call or not by which of them the set gives first: in address order, a replay took
# another path at once.
SET_ORDER = """
    import time

    class Node:
        pass

    kept = []
    firsts = []
    for round in range(300):
        time.time()
        batch = [Node() for _ in range(8)]
        for number, node in enumerate(batch):
            node.number = number
        first = next(iter(set(batch))).number
        firsts.append(first)
        if first % 2:
            time.monotonic()
        kept.append(batch[round % 8])
    print(sum(firsts), len(set(firsts)))
"""


def test_a_set_of_objects_iterates_in_the_recorded_order_when_replayed(record, write_program):
    write_program(SET_ORDER)
    run = record_and_verify(record, 3)
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout)


def test_the_debugger_follows_a_program_that_acts_in_set_order_to_its_end(record, write_program):
    # The engine forks snapshots and runs its own code between the program's lines: more
    # allocations of ours than a plain replay, at other moments.
    write_program(SET_ORDER)
    run = record("program.py")
    at_end = cli("inspect", str(run.path), "--at", "end")
    assert at_end.status == 0, at_end.stdout + at_end.stderr
    assert "diverged" not in at_end.stdout + at_end.stderr
    assert "print(sum(firsts), len(set(firsts)))" in at_end.stdout


def test_asyncio_cancels_leftover_tasks_in_the_recorded_order(record, write_program):
    # asyncio.run() cancels the tasks left at the end from all_tasks(), a set of tasks:
    # each prints as it is cancelled, and its print is a boundary call.
    write_program("""
        import asyncio, time

        async def sleeper(number):
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                print("cancelled", number, time.monotonic() > 0)
                raise

        async def main():
            for number in range(12):
                asyncio.get_running_loop().create_task(sleeper(number))
            await asyncio.sleep(0)

        asyncio.run(main())
    """)
    run = record_and_verify(record, 3)
    assert sorted(run.stdout.splitlines()) == sorted(f"cancelled {n} True" for n in range(12))
    replayed = cli("replay", str(run.path))
    assert replayed.stdout == run.stdout


def test_what_the_inside_of_a_recorded_call_hashes_takes_no_number(record, write_program):
    # datetime.now(tz) is one event; the tzinfo's code inside it runs when recorded and not
    # when replayed. Had its hashes taken numbers, every later object's would be one off in
    # the replay, and the sets below would wrap around at other places.
    write_program("""
        import datetime, time

        class Zone(datetime.tzinfo):
            def utcoffset(self, moment):
                {object(): 1, object(): 2}
                return datetime.timedelta(hours=1)

            def dst(self, moment):
                return datetime.timedelta(0)

        class Node:
            pass

        zone = Zone()
        turns = 0
        for round in range(200):
            datetime.datetime.now(zone)
            batch = [Node() for _ in range(8)]
            for number, node in enumerate(batch):
                node.number = number
            if next(iter(set(batch))).number:
                turns += 1
                time.monotonic()
        print("turns", turns)
    """)
    run = record_and_verify(record, 3)
    assert run.stdout.startswith("turns ")


def test_hashes_stay_the_same_while_objects_live(record, write_program):
    # Objects die and their memory is reused all the time: a hash that changed while its
    # object lived would lose it in the dicts and sets that hold it.
    write_program("""
        import functools, gc, random, weakref

        class Node:
            pass

        class Slotted:
            __slots__ = ("value",)

        class Explicit:
            __hash__ = object.__hash__

        @functools.singledispatch
        def kind(value):
            return "other"

        @kind.register
        def _(value: Node):
            return "node"

        random.seed(5)
        table, live, weak = {}, [], weakref.WeakKeyDictionary()
        for step in range(60000):
            thing = random.choice((Node, Slotted, Explicit, object))()
            table[thing] = step
            if type(thing) in (Node, Explicit):
                weak[thing] = step
            if random.random() < 0.3:
                live.append(thing)
            if len(table) > 2000:
                for key in list(table)[:1000]:
                    del table[key]
            if len(live) > 3000:
                del live[:1500]
                gc.collect(0)
        assert all(table[key] == value for key, value in table.items())
        assert all(key in table for key in list(table))
        assert all(weak[key] == value for key, value in list(weak.items()))
        assert {kind(Node()), kind(Slotted()), kind(1)} == {"node", "other"}
        assert hash(Node) == hash(Node) and Node in {Node: 1}
        # dicts made before the program started, keyed by what was alive then
        import copyreg, pickle
        assert complex in copyreg.dispatch_table and pickle.loads(pickle.dumps(1 + 2j)) == 1 + 2j
        assert {None: 1}[None] == 1 and None in {None} and ... in {...: 2}
        print("same", len(table) > 0)
    """)
    run = record("program.py")
    assert (run.status, run.stdout) == (0, "same True\n"), run.stderr


@pytest.mark.parametrize("setting", ["1", "0"])
def test_a_replay_hashes_as_its_recording_did(record, write_program, tmp_path, setting):
    # RETRACE_STABLE_HASHES=0 records with address hashes (as recordings made before them
    # did); the replay follows the recording, whatever its own environment says.
    write_program("""
        class Node:
            pass
        print("small" if hash(Node()) < 1000000 else "address")
    """)
    run = record("program.py", env={"RETRACE_STABLE_HASHES": setting})
    assert run.stdout == ("small\n" if setting == "1" else "address\n")
    for replay_setting in ("0", "1"):
        replayed = cli("replay", str(run.path), env={"RETRACE_STABLE_HASHES": replay_setting})
        assert replayed.stdout == run.stdout
    verdict = json.loads(cli("verify", str(run.path), "--json").stdout)
    assert verdict["matched"]


def test_objects_a_thread_hashes_do_not_change_the_numbers_of_another_threads(record, write_program):
    """trio's ``Event`` wakes its waiters in the order of a set of tasks. After a server
    thread of the test had hashed objects of its own, the tasks woke in another order when
    replayed: with one counter for all threads, the numbers a thread's objects got
    depended on how the threads' code between their events interleaved, which a replay
    does not repeat. Each thread now numbers its own objects. Here a worker hashes
    300,000 objects while the main thread makes small sets and prints their order."""
    write_program("""
        import threading

        class Thing:
            def __init__(self, number):
                self.number = number

        def churn():
            kept = set()
            for number in range(300_000):
                kept.add(Thing(number))

        worker = threading.Thread(target=churn)
        worker.start()
        orders = []
        for round in range(40):
            kept = set(Thing(number) for number in range(5))
            orders.append("".join(str(thing.number) for thing in kept))
            for number in range(5_000):
                hash(Thing(number))
        worker.join()
        print(" ".join(orders))
    """)
    run = record_and_verify(record, 3)  # replayed exactly, each (3 of 3 diverged before)
    assert len(run.stdout.split()) == 40, run.stdout + run.stderr
