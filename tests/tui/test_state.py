"""What the debugger remembers per recording (retrace_tui/state.py), on real recordings."""
from __future__ import annotations

import os
import shutil
import stat

import tui_helpers  # noqa: F401  (its import points XDG_STATE_HOME at a folder of the test run)
from retrace_tui import state


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
