"""The programs the recording benchmarks run, written into a temporary folder.

Each program prints ``loop SECONDS``: the time of its measured loop, taken inside the
process with ``time.perf_counter`` (two boundary events, outside the loop).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

# (a) CPU-bound pure Python: dicts, lists, strings and arithmetic, no boundary call in
# the loop. argv[1] is the number of rounds.
CPU_PROGRAM = '''
import sys
import time


def work(rounds):
    counts = {}
    words = []
    total = 0
    for i in range(rounds):
        key = "k" + str(i % 997)
        counts[key] = counts.get(key, 0) + 1
        words.append(key.upper())
        if len(words) == 64:
            joined = "-".join(sorted(words))
            total += len(joined.split("-")) + joined.count("K1")
            words.clear()
        total += (i * i + 7) % 13 - i // 5 % 3
    return total + sum(counts.values())


start = time.perf_counter()
result = work(int(sys.argv[1]))
print(f"loop {time.perf_counter() - start:.6f} result {result}")
'''

# (d) Objects that hash by identity (no __hash__ of their own): argv[1] rounds of ten new
# objects, each hashed once into a dict and looked up, then dropped (every one a first hash
# and a free of a hashed block, under stable hashes: bootstrap/stable_hashes.py).
OBJECTS_PROGRAM = '''
import sys
import time


class Node:
    pass


start = time.perf_counter()
for _ in range(int(sys.argv[1])):
    table = {}
    nodes = [Node() for _ in range(10)]
    for node in nodes:
        table[node] = 1
    for node in nodes:
        table[node] += 1
print(f"loop {time.perf_counter() - start:.6f}")
'''

# (c) Many boundary calls: time.time() is recorded on every call; random.random() is
# not (the generator was seeded once from a recorded os.urandom).
CALLS_PROGRAM = '''
import random
import sys
import time

calls = int(sys.argv[1])
start = time.perf_counter()
for _ in range(calls):
    time.time()
    random.random()
print(f"loop {time.perf_counter() - start:.6f}")
'''

_CONFTEST = '''
import pytest


@pytest.fixture
def inventory():
    return {f"item{i}": i * 3 for i in range(50)}


@pytest.fixture(scope="session")
def alphabet():
    return [chr(ord("a") + i) for i in range(26)]


@pytest.fixture
def ledger(tmp_path):
    path = tmp_path / "ledger.txt"
    path.write_text("\\n".join(str(i) for i in range(100)))
    return path
'''

_PLAIN_TEST = '''
def test_plain_{n}():
    values = [i * {n} for i in range(200)]
    assert sum(values) == {n} * 199 * 200 // 2
    assert sorted(values, reverse=True)[0] == 199 * {n}
'''

_PARAMETRIZED_TESTS = '''
import pytest


@pytest.mark.parametrize("n", range({half}))
def test_words(n):
    text = " ".join(["word"] * (n + 1))
    assert text.count("word") == n + 1


@pytest.mark.parametrize("n", range({rest}))
def test_squares(n):
    assert {{i: i * i for i in range(n + 1)}}[n] == n * n
'''

_TMP_PATH_TEST = '''

def test_roundtrip_{n}(tmp_path):
    path = tmp_path / "data_{n}.json"
    path.write_text(json.dumps({{"n": {n}, "items": list(range({n} + 5))}}))
    assert json.loads(path.read_text())["items"][-1] == {n} + 4
'''

_FIXTURE_TEST = '''
def test_fixtures_{n}(inventory, alphabet, ledger):
    assert inventory["item{n}"] == {n} * 3
    assert alphabet[{n} % 26] == chr(ord("a") + {n} % 26)
    assert len(ledger.read_text().splitlines()) == 100
'''


def write_program(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def write_test_suite(directory: Path, count: int) -> int:
    """Write a pytest suite of ``count`` small tests (at least 5) into ``directory``.

    A fifth are plain tests, two fifths parametrized, a fifth use ``tmp_path`` and the
    rest conftest fixtures. Returns the number of tests written.
    """
    fifth = max(count // 5, 1)
    parametrized = 2 * fifth
    fixtures = count - 4 * fifth  # what is left, so the total is exact
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "conftest.py").write_text(_CONFTEST.lstrip())
    (directory / "test_plain.py").write_text("".join(_PLAIN_TEST.format(n=n) for n in range(1, fifth + 1)))
    (directory / "test_parametrized.py").write_text(
        _PARAMETRIZED_TESTS.format(half=parametrized // 2, rest=parametrized - parametrized // 2).lstrip())
    (directory / "test_files.py").write_text(
        "import json\n" + "".join(_TMP_PATH_TEST.format(n=n) for n in range(fifth)))
    (directory / "test_fixtures.py").write_text("".join(_FIXTURE_TEST.format(n=n) for n in range(fixtures)))
    return fifth + parametrized + fifth + fixtures


# CPU-bound pure Python: a loop calling small functions (dicts, strings, arithmetic, a
# table of 100k ints rewritten in place, so snapshots do not share all their pages),
# time.time() every 2,000 rounds and a printed line every 250,000, so the tape has
# events all along. checkpoint() runs once, after argv[2] of the argv[1] rounds.
ENGINE_PROGRAM = '''
import sys
import time

TABLE_SIZE = 100_000


def mix(i):
    return (i * i + 7) % 13 - i // 5 % 3


def label(i):
    return "k" + str(i % 997)


def step(state, i):
    key = label(i)
    counts = state["counts"]
    counts[key] = counts.get(key, 0) + 1
    state["table"][i % TABLE_SIZE] = i * 3 + mix(i)
    words = state["words"]
    words.append(key.upper())
    if len(words) == 64:
        joined = "-".join(sorted(words))
        state["total"] += len(joined.split("-")) + joined.count("K1")
        words.clear()
    state["total"] += mix(i)


def work(state, first, last):
    for i in range(first, last):
        step(state, i)
        if i % 2_000 == 0:
            state["stamp"] = time.time()
        if i % 250_000 == 0:
            print("round", i, state["total"], flush=True)


def checkpoint(state):
    state["checkpoints"] += 1  # BREAKPOINT: this line runs once


rounds, marked = int(sys.argv[1]), int(sys.argv[2])
state = {"counts": {}, "table": [0] * TABLE_SIZE, "words": [], "total": 0, "stamp": 0.0, "checkpoints": 0}
start = time.perf_counter()
work(state, 0, marked)
checkpoint(state)
work(state, marked, rounds)
print(f"loop {time.perf_counter() - start:.6f} total {state['total']} checkpoints {state['checkpoints']}")
'''
BREAKPOINT_LINE = next(number for number, line in enumerate(ENGINE_PROGRAM.lstrip().splitlines(), 1)
                       if "# BREAKPOINT" in line)
