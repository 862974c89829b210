"""Esc during a long watch move (c or C over a long loop): the debugger goes back to
where it was, says so, and the next key works as usual."""
from __future__ import annotations

import textwrap

import pytest

from retrace_core.control.session import Cancelled
from retrace_tui.app import RetraceApp
from retrace_tui.debugger import Debugger
from retrace_tui.widgets.source import SourceView
from tui_helpers import drive, press, screen_lines, settle

# The watched call runs 400,000 lines; a watch evaluates `flag + 0` at each of them (an
# expression, not a plain local, which only its stores could change: the tracer would stop
# at those lines alone), so c and C take seconds (about 8 here), and Esc comes long before.
PROGRAM = textwrap.dedent("""\
    def work(n):
        total = 0
        flag = 0
        for i in range(n):
            total += i % 7
        flag = 1
        return total


    print(work(200_000))
""")
LINES = PROGRAM.splitlines()
LOOP_LINE = LINES.index("    for i in range(n):") + 1
FLAG_LINE = LINES.index("    flag = 1") + 1


@pytest.fixture
def loop_recording(record, write_program):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0 and run.stdout == f"{sum(i % 7 for i in range(200_000))}\n", run.stderr
    return run.path


async def stop_at(pilot, line: int) -> None:
    """x on ``line``, c, x again (cleared): the first run of that line."""
    source = pilot.app.query_one(SourceView)
    source.focus()
    source.cursor_line = line
    await press(pilot, "x", "c")
    source.cursor_line = line
    await press(pilot, "x")
    assert pilot.app.view.current_line == line


async def cancel(pilot, key: str, after: float = 0.6) -> None:
    """``key`` (a watch move), then Esc ``after`` seconds into it."""
    app = pilot.app
    await pilot.press(key)
    await pilot.pause(after)
    assert not app.engine.idle(), "the move ended before Esc: make the loop longer"
    assert "working… (Esc cancels)" in screen_lines(app)[-2]
    await pilot.press("escape")
    await settle(pilot)


def test_escape_cancels_a_watch_move_over_a_long_loop(loop_recording):
    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        await stop_at(pilot, LOOP_LINE)
        await pilot.press("w", *"flag + 0", "enter")
        await settle(pilot)
        assert "watch 1: flag + 0" in screen_lines(app)[-2]
        before = app.view.position
        await cancel(pilot, "c")
        assert app.view.position == before and app.view.current_line == LOOP_LINE
        assert "cancelled" in screen_lines(app)[-2]
        await press(pilot, "n")  # the app goes on as usual
        assert app.view.current_line == LOOP_LINE + 1 and app.view.position == before + 1
        # C from after the loop: back over it, cancelled the same way. It is many short runs,
        # each from a snapshot: Esc at a few moments, one of them likely between two runs
        # (such an Esc was lost, and C went on to its end).
        await stop_at(pilot, FLAG_LINE)
        before = app.view.position
        for after in (0.45, 0.6, 0.75):
            await cancel(pilot, "C", after)
            assert app.view.position == before and app.view.current_line == FLAG_LINE, after
            assert f"cancelled: back at position {before}" in screen_lines(app)[-2]
        await press(pilot, "n")
        assert app.view.current_line == FLAG_LINE + 1
        assert [watch["expression"] for watch in app.debugger.watches()] == ["flag + 0"]  # still set

    drive(RetraceApp(str(loop_recording)), script)


@pytest.mark.parametrize("escape_at_fork", [1, 3])
def test_an_escape_as_a_watch_move_forks_its_next_worker_is_not_lost(loop_recording, monkeypatch, escape_at_fork):
    # C with a watch is many short runs, each from a fork of a snapshot. An Esc that came
    # just as one run had ended killed the worker about to be replaced: the move went on
    # to its end. Here Esc comes exactly then, at the move's nth fork.
    debugger = Debugger(str(loop_recording))
    try:
        source = debugger.move("goto", 1).source_file
        debugger.toggle_breakpoint(source, FLAG_LINE)
        before = debugger.move("continue_").position
        debugger.toggle_breakpoint(source, FLAG_LINE)
        debugger.watch("flag + 0")
        session, forks = debugger.session, []
        fork_from = session.workers.fork_from

        def escape_then_fork(snapshot):
            forks.append(snapshot)
            if len(forks) == escape_at_fork:
                session.cancel()  # as the app's Esc does, from its own thread
            return fork_from(snapshot)

        monkeypatch.setattr(session.workers, "fork_from", escape_then_fork)
        with pytest.raises(Cancelled):
            debugger.move("reverse_continue")
        monkeypatch.undo()
        assert len(forks) == escape_at_fork  # cancelled at once, not at the end of the move
        view = debugger.move("goto", before)  # where the app goes back to
        assert (view.position, view.current_line) == (before, FLAG_LINE)
        assert debugger.move("next").current_line == FLAG_LINE + 1  # the next move is not cancelled
    finally:
        debugger.close()
