"""Stepping through coroutines: the engine's verbs on a recorded asyncio program.

A coroutine that reaches an ``await`` which suspends it returns to the event loop, and
the loop runs other tasks' lines before it resumes the coroutine, all in one thread and
at the same depth of program frames. A user who presses `n` on an ``await`` expects what
pdb does: the next line of the same coroutine, with the awaited value in its locals;
`f` expects the line of the coroutine that awaited this one. `s` stops at the very next
line, whichever task runs it (pdb's `step` does the same).

The ground truth is the run stepped one line at a time from the start, as in
test_navigation.py; lines are found by the marker comments in the program.
"""
import pytest

from conftest import cli, verify
from retrace_core.control.session import Session

PROGRAM = """
import asyncio


async def fetch(name, delay):
    started = name  # fetch: first line
    await asyncio.sleep(delay)  # fetch: sleeps
    result = shout(name)  # fetch: after sleeping
    await asyncio.sleep(0)  # fetch: sleeps again
    return result  # fetch: returns


def shout(name):
    loud = name.upper()  # shout: first line
    return loud


async def chatter(count):
    said = []  # chatter: first line
    for index in range(count):
        said.append(index)
        await asyncio.sleep(0)
    return said  # chatter: returns


async def main():
    other = asyncio.create_task(chatter(5))
    value = await fetch("alpha", 0)  # main: awaits fetch
    both = await asyncio.gather(fetch("beta", 0.001), other)  # main: gathers
    print("done", value, both)  # main: prints


asyncio.run(main())
"""

BACK_OVER_AWAIT = ("back/back_finish remember the last line at this depth or shallower, "
                   "which is another task's line while the coroutine was suspended (a fix needs the "
                   "backward search to remember the last line per frame)")


def line_of(marker: str) -> int:
    return next(number for number, text in enumerate(PROGRAM.splitlines(), 1) if f"# {marker}" in text)


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """The recording opened in a Session, and the run walked one line at a time:
    position -> (line, function, depth)."""
    folder = tmp_path_factory.mktemp("asyncio-stepping")
    (folder / "program.py").write_text(PROGRAM)
    run = cli("record", "-o", str(folder / "run.retrace"), "--", "program.py", cwd=folder)
    assert run.status == 0 and run.stdout == "done ALPHA ['BETA', [0, 1, 2, 3, 4]]\n", run.stderr
    assert verify(folder / "run.retrace").status == 0
    session = Session(str(folder / "run.retrace"))
    walk = {}
    stop = session.goto(1)
    while not stop.finished:
        walk[stop.position] = (stop.line, stop.function, stop.depth)
        stop = session.step_into()
    yield session, walk
    session.close()


def positions(walk: dict, marker: str) -> list[int]:
    """Where the marked line ran, in order."""
    return [position for position, (line, _, _) in sorted(walk.items()) if line == line_of(marker)]


def where(stop) -> tuple:
    return (None,) if stop.finished else (stop.line, stop.function)


def local(session, name: str) -> str:
    return next(item["repr"] for item in session.state()["frames"][0]["locals"] if item["name"] == name)


def test_a_breakpoint_in_a_coroutine_stops_in_each_task_with_its_locals_and_stack(walked):
    session, walk = walked
    alpha, beta = positions(walk, "fetch: after sleeping")
    session.set_breakpoint(session.goto(1).file, line_of("fetch: after sleeping"))
    try:
        stop = session.continue_()
        assert (stop.position, stop.reason, stop.function) == (alpha, "breakpoint", "fetch")
        state = session.state()
        assert [frame["function"] for frame in state["frames"]] == ["fetch", "main", "<module>"]
        assert (local(session, "name"), local(session, "started"), local(session, "delay")) == \
            ("'alpha'", "'alpha'", "0")
        # Run by gather as a task of its own: nothing of the program awaits it on the stack.
        stop = session.continue_()
        assert (stop.position, stop.function) == (beta, "fetch")
        assert [frame["function"] for frame in session.state()["frames"]] == ["fetch", "<module>"]
        assert local(session, "name") == "'beta'"
        assert session.continue_().finished
    finally:
        session.breakpoints.clear()


def test_step_into_stops_at_the_very_next_line_whichever_task_runs_it(walked):
    session, walk = walked
    sleeps = positions(walk, "fetch: sleeps")[0]
    session.goto(sleeps)
    stop = session.step_into()
    assert stop.position == sleeps + 1
    assert (stop.line, stop.function) == (line_of("chatter: first line"), "chatter")


def test_next_inside_a_coroutine_between_awaits(walked):
    session, walk = walked
    session.goto(positions(walk, "chatter: first line")[0])
    assert where(session.next()) == (line_of("chatter: first line") + 1, "chatter")
    assert where(session.next()) == (line_of("chatter: first line") + 2, "chatter")


def test_finish_from_a_plain_function_called_by_a_coroutine(walked):
    """Not a coroutine, so nothing suspends: finish lands on the coroutine's next line."""
    session, walk = walked
    session.goto(positions(walk, "shout: first line")[0])
    assert where(session.finish()) == (line_of("fetch: sleeps again"), "fetch")
    assert local(session, "result") == "'ALPHA'"


def test_next_over_an_await_that_suspends_stays_in_the_coroutine(walked):
    session, walk = walked
    sleeps = positions(walk, "fetch: sleeps")[0]
    session.goto(sleeps)
    stop = session.next()
    assert (stop.line, stop.function) == (line_of("fetch: after sleeping"), "fetch")
    assert stop.position == positions(walk, "fetch: after sleeping")[0]
    assert local(session, "name") == "'alpha'"


def test_next_over_awaiting_a_coroutine_lands_on_the_next_line_with_its_value(walked):
    session, walk = walked
    session.goto(positions(walk, "main: awaits fetch")[0])
    stop = session.next()
    assert (stop.line, stop.function) == (line_of("main: gathers"), "main")
    assert local(session, "value") == "'ALPHA'"
    stop = session.next()  # over a gather of two tasks
    assert (stop.line, stop.function) == (line_of("main: prints"), "main")
    assert local(session, "both") == "['BETA', [0, 1, 2, 3, 4]]"


def test_finish_from_an_awaited_coroutine_returns_to_the_coroutine_awaiting_it(walked):
    session, walk = walked
    session.goto(positions(walk, "fetch: sleeps")[0])
    stop = session.finish()
    assert (stop.line, stop.function) == (line_of("main: gathers"), "main")
    assert local(session, "value") == "'ALPHA'"


def test_finish_from_a_task_stops_at_the_first_line_after_it_returned(walked):
    """Nothing of the program awaits a task's coroutine on its stack (the event loop
    called it): finish stops at the next line this thread runs once it has returned,
    rather than running to the end of the program."""
    session, walk = walked
    returns = positions(walk, "chatter: returns")[0]
    session.goto(positions(walk, "chatter: first line")[0])
    stop = session.finish()
    assert not stop.finished
    assert stop.position == returns + 1


@pytest.mark.xfail(strict=True, reason=BACK_OVER_AWAIT)
def test_back_over_an_await_returns_to_the_line_before_it_in_the_coroutine(walked):
    session, walk = walked
    session.goto(positions(walk, "fetch: after sleeping")[0])
    stop = session.back()
    assert (stop.position, stop.line, stop.function) == \
        (positions(walk, "fetch: sleeps")[0], line_of("fetch: sleeps"), "fetch")


@pytest.mark.xfail(strict=True, reason=BACK_OVER_AWAIT)
def test_back_finish_from_an_awaited_coroutine_goes_to_the_await_in_its_caller(walked):
    session, walk = walked
    session.goto(positions(walk, "fetch: after sleeping")[0])
    stop = session.back_finish()
    assert (stop.position, stop.function) == (positions(walk, "main: awaits fetch")[0], "main")
