"""What the debugger remembers per recording (retrace_tui/state.py), on real recordings."""
from __future__ import annotations

import json
import os
import shutil
import stat
import textwrap

import pytest
from textual.widgets import Input

from retrace_tui import state
from retrace_tui.app import RetraceApp
from retrace_tui.screens import JumpList, PromptScreen
from retrace_tui.widgets.locals import LocalsView
from retrace_tui.widgets.source import SourceView
from tui_helpers import drive, press, screen_lines, screen_text, settle  # (and XDG_STATE_HOME: a folder of the run)


def test_the_state_file_is_keyed_by_the_recording_not_its_path(record, write_program, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    write_program("print('hello')\n")
    first = record("program.py")
    other = record("program.py", name="other.retrace")
    pid = first.tape().process["pid"]
    path = state.state_path(str(first.path), pid)
    assert path.startswith(str(tmp_path / "state" / "retrace-tui") + os.sep)
    copied = tmp_path / "copied.retrace"
    shutil.copy(first.path, copied)
    assert state.state_path(str(copied), pid) == path  # a copy keeps its breakpoints
    assert state.state_path(str(other.path), other.tape().process["pid"]) != path  # a new recording does not

    saved = state.SavedState(breakpoints=[["/p/program.py", 1, "x > 1"]], bookmarks=[{"name": "here", "position": 3}])
    assert state.save(path, saved)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert state.load(path) == saved


def test_an_unreadable_state_file_is_passed_over(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", "relative/path")  # ignored, as the XDG rule says
    assert state.state_folder() == os.path.join(os.path.expanduser("~"), ".local", "state", "retrace-tui")
    broken = tmp_path / "broken.json"
    for text in ("{not json", '{"breakpoints": [[1]]}', '["a list"]', '{"bookmarks": [{"name": "x"}]}'):
        broken.write_text(text)
        assert state.load(str(broken)) == state.SavedState()
    assert state.load(str(tmp_path / "missing.json")) == state.SavedState()
    (tmp_path / "a-file").write_text("")
    assert not state.save(str(tmp_path / "a-file" / "x.json"), state.SavedState())  # no folder can be made there


PROGRAM = textwrap.dedent("""\
    def discount(price, count):
        rate = 0.1
        if count > 5:
            rate = 0.35
        return round(price * (1 - rate), 2)


    def main():
        total = 0
        for count in (2, 6):
            total += discount(200.0, count)
        print("total", total)


    main()
""")
LINES = PROGRAM.splitlines()
RATE_LINE = LINES.index("    rate = 0.1") + 1
RETURN_LINE = LINES.index("    return round(price * (1 - rate), 2)") + 1


@pytest.fixture
def discount_run(record, write_program):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0 and run.stdout == "total 310.0\n", run.stderr
    return run


@pytest.fixture
def discount_recording(discount_run):
    return discount_run.path


def status(app) -> str:
    return screen_lines(app)[-2]


def test_a_watch_and_a_logpoint_come_back_when_the_recording_is_opened_again(discount_recording, tmp_path):
    async def first_session(pilot):
        await settle(pilot)
        app = pilot.app
        source = app.query_one(SourceView)
        source.focus()
        source.cursor_line = RETURN_LINE
        await press(pilot, "x", "c")  # the first call's return line: rate = 0.1
        tree = app.query_one(LocalsView)
        tree.focus()
        tree.move_cursor(next(node for node in tree.root.children if node.data and node.data.path == ["rate"]))
        await press(pilot, "w")
        assert "watch 1: rate" in status(app)
        source.focus()
        await pilot.press("L")
        await pilot.press(*"rate", "enter")
        await settle(pilot)
        assert isinstance(app.screen, JumpList) and "rate = 0.35" in screen_text(app)
        await pilot.press("escape", "q")

    async def second_session(pilot):
        await settle(pilot)
        app = pilot.app
        await pilot.pause(0.1)
        # A toast says what came back (its lines start with ▌, over the panes' right side).
        toast = " ".join(line.split("▌", 1)[1].strip(" │╯─") for line in screen_lines(app) if "▌" in line)
        assert " ".join(toast.split()) == ("From the last session: 1 breakpoint (set), 1 watch (set again at the "
                                           "first stop in discount()), 1 logpoint (L lists them)"), screen_text(app)
        app.clear_notifications()  # as its timeout would: it covers the status line's end
        await pilot.pause()
        assert app.view.current_line == 1 and app.debugger.watches()[0]["waits"] == "discount"
        await pilot.press("W")  # the watch waits for a call of discount(), and says so
        await pilot.pause()
        assert "rate  (from the last session: set at the first stop in discount())" in screen_text(app)
        await pilot.press("escape")
        await press(pilot, "c")  # the breakpoint: in discount(), so the watch is set again
        assert app.view.current_line == RETURN_LINE
        assert "watch 1: rate set again in discount() (from the last session)" in status(app)
        await press(pilot, "C")  # back to the line that changed it, before it runs
        assert app.view.current_line == RATE_LINE and app.view.message.startswith("watch rate: ")
        assert "→ 0.1" in status(app)
        await press(pilot, "c")  # forward: right after that line
        assert app.view.current_line == RATE_LINE + 1 and f"→ 0.1 at program.py:{RATE_LINE}" in status(app)
        # L lists the logpoint made last time (its runs computed only now, when chosen).
        source = app.query_one(SourceView)
        source.focus()
        await pilot.press("L")
        await pilot.pause()
        assert isinstance(app.screen, JumpList)
        text = screen_text(app)
        assert "+ a new logpoint at program.py:" in text and f"program.py:{RETURN_LINE}  rate" in text
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, JumpList)
        text = screen_text(app)
        assert "rate = 0.1" in text and "rate = 0.35" in text

    async def third_session(pilot):  # W, Enter on the waiting watch: it is forgotten
        await settle(pilot)
        app = pilot.app
        await pilot.press("W")
        await press(pilot, "enter")
        assert "watch rate in discount() deleted" in status(app)
        assert app.debugger.watches() == [] and state.load(app.debugger._state_path).watches == []

    state_home = tmp_path / "state"
    drive(RetraceApp(str(discount_recording)), first_session, state_home=state_home)
    drive(RetraceApp(str(discount_recording)), second_session, state_home=state_home, notifications=True)
    drive(RetraceApp(str(discount_recording)), third_session, state_home=state_home)


def test_a_watch_saved_in_the_older_format_is_offered_by_w(discount_run, tmp_path, monkeypatch):
    discount_recording = discount_run.path
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = state.state_path(str(discount_recording), discount_run.tape().process["pid"])
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        json.dump({"watches": ["rate"], "logpoints": []}, handle)
    assert state.load(path).watches == [{"expression": "rate", "condition": None, "file": None, "function": None}]

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        assert app.debugger.watches() == []  # no function to set it in: it only waits for w
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen) and app.screen.query_one(Input).value == "rate"

    drive(RetraceApp(str(discount_recording)), script, state_home=tmp_path / "state")
