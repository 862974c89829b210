"""Randomness: generators are seeded from recorded os.urandom calls; direct reads are events."""
import random

from conftest import calls


def test_global_and_unseeded_generators_follow_recorded_seeds(record, write_program):
    write_program("""
        import random
        print(repr(random.random()), random.getrandbits(64))
        items = list(range(10)); random.shuffle(items); print(items)
        mine = random.Random()
        print(repr(mine.random()))
        print(repr(random.Random(42).random()))
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    seeds = [int.from_bytes(e.value, "big") for e in calls(run.tape(), "os.urandom")]
    assert len(seeds) == 2  # the global generator and Random(); Random(42) needs none
    expected_global = random.Random(seeds[0])
    first = f"{expected_global.random()!r} {expected_global.getrandbits(64)}"
    items = list(range(10))
    expected_global.shuffle(items)
    lines = run.stdout.splitlines()
    assert lines[0] == first
    assert lines[1] == str(items)
    assert lines[2] == repr(random.Random(seeds[1]).random())
    assert lines[3] == repr(random.Random(42).random())


def test_urandom_getrandom_systemrandom_secrets_and_uuids(record, write_program):
    write_program("""
        import os, random, secrets, uuid
        print(os.urandom(8).hex())
        print(os.getrandom(8).hex())
        print(secrets.token_hex(8))
        print(repr(random.SystemRandom().random()))
        print(uuid.uuid4())
        print(uuid.uuid1())
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    tape = run.tape()
    lines = run.stdout.splitlines()
    urandom = [e for e in calls(tape, "os.urandom") if e.arguments == (8,)]
    assert lines[0] == urandom[0].value.hex()
    assert lines[1] == calls(tape, "os.getrandom")[0].value.hex()
    assert lines[2] == urandom[1].value.hex()  # secrets reads os.urandom through SystemRandom
    seven = [e for e in calls(tape, "os.urandom") if e.arguments == (7,)]
    assert lines[3] == repr((int.from_bytes(seven[0].value, "big") >> 3) * 2 ** -53)
    assert lines[4] == str(calls(tape, "uuid.uuid4")[0].value)
    assert lines[5] == str(calls(tape, "uuid.uuid1")[0].value)
