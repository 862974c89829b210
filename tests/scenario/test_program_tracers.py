"""A program that traces itself (coverage under ``pytest --cov``, a profiler, its own
``sys.settrace``) records and replays exactly: its tracer sees none of retrace's code, and
code it runs on retrace's behalf (a path argument's ``__fspath__``) makes no events."""
import pytest

from conftest import cli, printed, record_and_verify

TRACES_ITSELF = """
    import os, pathlib, sys, time

    seen = []

    def tracer(frame, event, arg):
        # as coverage does for each file it has not seen: look the file up on disk
        name = frame.f_code.co_filename
        if event == "call" and name not in seen:
            seen.append(name)
            if not name.startswith("<"):
                os.path.realpath(name)
        return None

    def work(folder):
        os.chdir(folder)          # a path argument: its __fspath__ is Python code
        return time.time() > 0, os.getcwd() == str(folder)

    sys.settrace(tracer)
    print("worked", work(pathlib.Path(os.getcwd())))
    sys.settrace(None)
    print("ours_seen", [name for name in seen if "retrace" in name and not name.startswith("<")])
"""


def test_a_program_whose_tracer_looks_up_each_new_file_replays(record, write_program):
    """Recorded, the tracer saw the tape writer's code and looked its file up (lstat
    events); replayed it saw the player's, at other moments: "the tape expected os.chdir,
    the program asked for os.lstat('/...')". And a ``pathlib.Path`` argument, turned into
    its text inside the real call when recorded but by the player when replayed, made the
    tracer look up ``pathlib.py`` at another moment."""
    write_program(TRACES_ITSELF)
    run = record_and_verify(record, 2)
    assert run.status == 0, run.stderr
    assert printed(run) == {"worked": (True, True), "ours_seen": []}


PROJECT = {
    "calc.py": """\
def add(a, b):
    return a + b


def mul(a, b):
    out = 0
    for _ in range(b):
        out = add(out, a)
    return out
""",
    "test_calc.py": """\
import time

from calc import add, mul


def test_add():
    assert add(2, 3) == 5


def test_mul():
    time.time()
    assert mul(3, 4) == 13
""",
}


def test_a_pytest_run_under_pytest_cov_replays_and_opens_at_the_failure(record, tmp_path):
    """``pytest --cov``: coverage's C tracer looks up every new file it sees, and saw
    retrace's (the replay diverged at the first boundary call after coverage started).
    Under the engine on 3.11, coverage's tracer and the engine's need CPython's one trace
    slot: whichever came last took it, and the replay diverged where coverage, no longer
    called, did not look up the test's files."""
    pytest.importorskip("pytest_cov")
    for name, text in PROJECT.items():
        (tmp_path / name).write_text(text)
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov=calc", "test_calc.py")
    assert run.status == 1 and "1 failed, 1 passed" in run.stdout and "calc.py" in run.stdout, run.stdout
    verified = cli("verify", str(run.path))
    assert verified.status == 0, verified.stdout + verified.stderr
    at_failure = cli("inspect", str(run.path), "--at", "failure", timeout=300)
    assert at_failure.status == 0, at_failure.stderr
    assert "test_calc.py:12 in test_mul" in at_failure.stdout
    assert "assert left: mul(3, 4): int = 12" in at_failure.stdout
    # the indexed engine, through coverage's start and stop: a breakpoint, and the end
    in_add = cli("inspect", str(run.path), "--at", "calc.py:2", timeout=300)
    assert in_add.status == 0 and "calc.py:2 in add" in in_add.stdout, in_add.stdout + in_add.stderr
    at_end = cli("inspect", str(run.path), "--at", "end", timeout=300)
    assert at_end.status == 0 and "(target)" in at_end.stdout.splitlines()[0], at_end.stdout + at_end.stderr
