"""Threads in the app: a breakpoint in a worker thread, its stack and the main thread's
one key apart, stepping that stays in the worker, the timeline's thread column."""
from __future__ import annotations

import re

from conftest import TWO_WORKERS
from retrace_tui.app import RetraceApp
from retrace_tui.widgets.stack import StackView
from retrace_tui.widgets.timeline import EventList
from tui_helpers import drive, press, settle

PROGRAM = TWO_WORKERS


def test_the_stack_pane_switches_thread_and_next_stays_in_the_stopped_one(record, write_program):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0, run.stderr
    loop_body = PROGRAM.splitlines().index("        total += step * factor") + 1

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        app.debugger.session.set_breakpoint(str(run.path.parent / "program.py"), loop_body)
        await press(pilot, "c")
        view = app.view
        stopped = view.thread
        assert stopped in (1, 2) and view.frames[0]["function"] == "worker"
        stack = app.query_one(StackView)
        assert stack.border_title.startswith(f"Stack  thread {stopped} worker-{stopped}  (")
        assert stack.border_title.endswith(f"/{len(view.threads)}, T switches)")
        await press(pilot, "T")
        shown = app.view.shown_thread
        assert shown != stopped and shown in [thread["thread"] for thread in app.view.threads]
        assert app.query_one(StackView).border_title.startswith(f"Stack  thread {shown} ")
        assert f"showing thread {shown}" in app.query_one("#status").render().plain
        ring = [t for t in app.view.threads if t.get("file") or t.get("current")]  # in program code
        for _ in range(len(ring) - 1):  # round the ring, back to the stopped thread
            await press(pilot, "T")
        assert app.view.shown_thread == stopped and app.view.frames[0]["function"] == "worker"
        # The breakpoint stays: the other worker reaches it later in the recorded order, and
        # must not run while this one is stopped, however long the user looks.
        await pilot.pause(1.0)
        await press(pilot, "T", "n")  # a move comes back to the thread that stopped
        assert (app.view.thread, app.view.shown_thread) == (stopped, stopped)
        assert app.view.frames[0]["function"] == "worker"
        assert app.query_one("#status").render().plain.split("thread ")[-1].startswith(str(stopped))
        # The timeline names each event's thread, and marks the hand-offs between threads.
        events = app.query_one(EventList)
        rows = [events.render_line(y).text for y in range(events.size.height)]
        assert rows and all(re.match(r"^.. *\d+ t[0-2] ", row) for row in rows), rows
        assert any(row[1] == "⇅" and "threading.Lock." in row for row in rows), rows

    drive(RetraceApp(str(run.path)), script)
