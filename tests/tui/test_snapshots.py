"""SVG snapshots of the main screen at the failure, in the dark and the light theme
(pytest-textual-snapshot). `pytest tests/tui/test_snapshots.py --snapshot-update` rewrites
them, for the Python that runs it; look at the SVGs before committing them.

The screen must be the same on every run and every machine, so the recorded program is
written fresh to a fixed folder (its path shows in the source pane's title, the output
and the timeline), and nothing it shows comes from a clock, a random source or an
installation path. Positions differ between Python versions, so each minor version has
its own snapshots, in its own folder (`__svg_snapshots__/test_snapshots/py3.11/...`): syrupy
only looks in the folders of the snapshots a run uses, so a run on one Python neither
reports the other Pythons' snapshots as unused nor deletes them with --snapshot-update.
(Every snapshot test of this module must therefore use `snap_compare`, which this module
points at the per-Python folder.)
"""
from __future__ import annotations

import fcntl
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_textual_snapshot

from conftest import cli
from retrace_tui.app import RetraceApp
from retrace_tui.widgets.locals import LocalsView
from retrace_tui.widgets.output import OutputView
from retrace_tui.widgets.source import SourceView
from retrace_tui.widgets.timeline import Timeline
from tui_helpers import settle

SIZE = (120, 40)
SMALL = (80, 24)  # the small layout (RetraceApp.SMALL)
PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
FOLDER = Path("/tmp/retrace-tui-snapshots") / PYTHON

PROGRAM = textwrap.dedent('''\
    import json

    PRICES = {"apple": 3, "pear": 4, "plum": 5}


    def save(path, data):
        with open(path, "w") as handle:
            json.dump(data, handle)


    def load(path):
        with open(path) as handle:
            return json.load(handle)


    def check(name, quantity, prices):
        cost = prices[name] * quantity
        assert cost < 10, f"{name} costs too much: {cost}"
        return cost


    def main():
        save("prices.json", PRICES)
        prices = load("prices.json")
        total = 0
        for quantity, name in enumerate(["apple", "pear", "plum"], start=1):
            total += check(name, quantity, prices)
            print(name, quantity, "total", total, flush=True)
        return total


    print("start", flush=True)  # flushed, or a pipe would hold the prints until the exit
    main()
''')
FAILING_LINE = PROGRAM.splitlines().index('    assert cost < 10, f"{name} costs too much: {cost}"') + 1


class PerPythonSVG(pytest_textual_snapshot.SVGImageExtension):
    """The plugin's SVG snapshots, in a folder of their own per Python minor version."""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        # Not under __snapshots__: syrupy's default extension walks all of that folder for
        # its own files, and a full run (no paths given) then calls every other Python's
        # SVG there unused.
        return str(Path(test_location.filepath).parent / "__svg_snapshots__" / Path(test_location.filepath).stem
                   / f"py{PYTHON}")


@pytest.fixture(autouse=True)
def per_python_snapshots(monkeypatch):
    # snap_compare looks the extension up in its module each time it is set up.
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", PerPythonSVG)


@pytest.fixture(scope="module")
def fixed_recording() -> Iterator[Path]:
    """The program above recorded at a fixed path; it fails on its third round.

    The folder is shared by every test session of this Python on the machine, so a lock
    keeps a concurrent session from replacing it while this one reads it."""
    FOLDER.parent.mkdir(parents=True, exist_ok=True)
    with open(FOLDER.parent / f"{FOLDER.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(FOLDER, ignore_errors=True)
        FOLDER.mkdir()
        (FOLDER / "program.py").write_text(PROGRAM)
        recording = FOLDER / "program.retrace"
        run = cli("record", "-o", str(recording), "--", "program.py", cwd=FOLDER)
        assert run.status == 1 and recording.is_file(), run.stdout + run.stderr
        assert run.stdout == "start\napple 1 total 3\npear 2 total 11\n"
        assert "AssertionError: plum costs too much: 15" in run.stderr
        yield recording


async def at_the_failure(pilot) -> None:
    """Wait for the first stop and check it is the failure, drawn in full, before the
    picture is taken: a snapshot of the loading screen, of an error panel or of a pane
    scrolled to the wrong place would be a wrong reference."""
    await settle(pilot)
    app = pilot.app
    assert app.screen is app.screen_stack[0], f"a screen is open over the main one: {app.screen!r}"
    view = app.view
    assert view.source_file == str(FOLDER / "program.py") and view.current_line == FAILING_LINE
    assert "AssertionError" in view.message and "plum costs too much: 15" in view.message
    assert [frame["function"] for frame in view.frames] == ["check", "main", "<module>"]
    # The failing assert's two sides come first (the engine computes them), then the locals.
    assert [local["name"] for local in view.locals] == ["assert left: cost", "assert right: 10",
                                                        "name", "quantity", "prices", "cost"]
    source = app.query_one(SourceView)
    assert source.current_line == FAILING_LINE and source.has_focus
    top, height = round(source.scroll_y), source.scrollable_content_region.height
    assert top < FAILING_LINE <= top + height, (
        f"the failing line {FAILING_LINE} is off screen: the source pane shows lines {top + 1}-{top + height} "
        "(SourceView.show centres the line before its scrollbars know the new virtual size?)")
    output = app.query_one(OutputView)
    for _ in range(50):  # the text's height is known a refresh or two after it is set
        if round(output.scroll_y) == output.max_scroll_y:
            break
        await pilot.pause(0.02)
    assert round(output.scroll_y) == output.max_scroll_y, (
        f"the output pane is not scrolled to its end: at {output.scroll_y} of {output.max_scroll_y} "
        "(OutputView.show scrolls before the new text is laid out?)")
    # Nothing on this screen blinks (a cursor's phase would depend on timing).
    assert not app.query("Input, TextArea")


@pytest.mark.parametrize("theme", [pytest.param(theme, id=f"{theme}-py{PYTHON}") for theme in ("dark", "light")])
def test_main_screen_at_the_failure(snap_compare, fixed_recording, theme):
    app = RetraceApp(str(fixed_recording), None, theme)
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=at_the_failure)
    finally:
        app.engine.close()
        if app.debugger is not None:
            app.debugger.close()


def _snapshot(snap_compare, fixed_recording, theme: str, size: tuple[int, int], run_before) -> None:
    app = RetraceApp(str(fixed_recording), None, theme)
    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.engine.close()
        if app.debugger is not None:
            app.debugger.close()


def test_main_screen_at_80x24(snap_compare, fixed_recording):
    """The small layout: the timeline folded to its current event, the locals without types."""
    _snapshot(snap_compare, fixed_recording, "dark", SMALL, at_the_failure)


async def searched_the_timeline(pilot) -> None:
    """At the failure, `/prices.json` Enter: the hits marked, the first one gone to."""
    await at_the_failure(pilot)
    await pilot.press("slash", *"prices.json", "enter")
    await settle(pilot)
    app = pilot.app
    assert app.query_one(Timeline).border_title.startswith("Timeline  /prices.json: 2 hits")
    assert app.view.message == "event 3"
    assert not app.query("Input")


def test_timeline_search(snap_compare, fixed_recording):
    _snapshot(snap_compare, fixed_recording, "dark", SIZE, searched_the_timeline)


async def history_of_cost(pilot) -> None:
    """At the failure, h on the local `cost`: its history in this call, one change."""
    await at_the_failure(pilot)
    app = pilot.app
    tree = app.query_one(LocalsView)
    tree.focus()
    tree.move_cursor(next(node for node in tree.root.children if node.data and node.data.path == ["cost"]))
    await pilot.press("h")
    await settle(pilot)
    assert type(app.screen).__name__ == "JumpList"
    assert not app.query("Input")


def test_history_of_a_local(snap_compare, fixed_recording):
    _snapshot(snap_compare, fixed_recording, "dark", SIZE, history_of_cost)
