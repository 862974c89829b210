"""Opening a recording of a failed pytest run: the failure shows before the run is
indexed (opening.first_look), and the debugger takes over once it is."""
from __future__ import annotations

import textwrap

from retrace_tui.app import RetraceApp
from retrace_tui.debugger import Debugger
from retrace_tui.opening import first_look
from retrace_tui.widgets.locals import LocalsView
from tui_helpers import drive, screen_text, settle

# A long pure-Python test first: indexing traces it (several times its plain time), the
# first look runs it untraced, so the failure can be shown long before the index is done.
SUITE = """
    def test_busy():
        total = 0
        for i in range(20_000_000):
            total += i % 7
        assert total > 0


    def test_sum():
        parts = [1, 2, 3]
        total = sum(parts)
        assert total == 7, f"total is {total}"
"""
FAILING_LINE = next(n for n, text in enumerate(textwrap.dedent(SUITE).splitlines(), 1) if "assert total ==" in text)


def recorded(record, write_program):
    write_program(SUITE, "test_suite.py")
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_suite.py", verify_after=False)
    assert run.status == 1, run.stderr
    return run.path


def test_the_first_look_is_the_screen_the_debugger_shows_at_the_failure(record, write_program):
    path = recorded(record, write_program)
    looked, preview = first_look(str(path), None)
    debugger = Debugger(str(path))
    try:
        final = debugger.failure(0)
        assert not preview.indexed and final.indexed
        assert (preview.source_file, preview.current_line) == (final.source_file, final.current_line)
        assert preview.current_line == FAILING_LINE
        assert preview.locals == final.locals
        assert [(f["file"], f["line"]) for f in preview.frames] == [(f["file"], f["line"]) for f in final.frames]
        assert preview.stack_rows == final.stack_rows
        assert preview.output == final.output and preview.event == final.event
        assert preview.message == final.message == "failure: AssertionError: total is 6 (in test_sum)"
        for verb in ("back", "back", "next", "back_into"):  # the first look moves as the debugger does
            moved, indexed = looked.move(verb), debugger.move(verb)
            assert (moved.current_line, moved.locals, moved.message) == (indexed.current_line, indexed.locals,
                                                                         indexed.message), verb
        views = [looked.move("back") for _ in range(4)]  # out of test_sum, to where the first look began
        assert views[-1].reason == "look-start"
        assert "back to the failing test's start; earlier once the run is indexed" in views[-1].message
    finally:
        looked.close()
        debugger.close()


def test_the_app_shows_the_failure_and_moves_while_it_indexes(record, write_program):
    path = recorded(record, write_program)
    seen: dict = {}

    async def script(pilot):
        app = pilot.app
        while app.view is None:
            await pilot.pause(0.02)
        seen["indexed"] = app.view.indexed  # False: this screen came before the index
        await pilot.pause(0.15)  # a tick of the progress
        seen["first"] = screen_text(app)
        seen["locals"] = {value["name"]: value["repr"] for value in app.view.locals}
        # b steps back before the index is done (it takes several times as long): the first look moves.
        await pilot.press("b")
        while app.view.current_line == FAILING_LINE:
            await pilot.pause(0.02)
        seen["back"] = (app.view.indexed, app.view.current_line, screen_text(app))
        # Values open, answered by whichever debugger stands there.
        tree = app.query_one(LocalsView)
        tree.focus()
        node = next(child for child in tree.root.children if child.data.path == ["parts"])
        tree.move_cursor(node)
        await pilot.press("enter")
        while not node.children or "loading" in str(node.children[0].label):
            await pilot.pause(0.02)
        seen["parts"] = [str(child.label) for child in node.children]
        while not app.view.indexed or not app.engine.idle():
            await pilot.pause(0.05)
        await settle(pilot)
        seen["after"] = screen_text(app)
        seen["final_line"] = app.view.current_line

    drive(RetraceApp(str(path)), script)
    assert seen["indexed"] is False
    assert "indexing the run" in seen["first"] and "Timeline: indexing the run, " in seen["first"]
    assert f"{FAILING_LINE}▶" in seen["first"].replace(" ", "")
    assert seen["locals"]["total"] == "6"
    assert [label.split(":")[0].strip() for label in seen["parts"]] == ["[0]", "[1]", "[2]"]
    indexed, line, screen = seen["back"]
    assert (indexed, line) == (False, FAILING_LINE - 1) and "indexing the run" in screen
    # The indexed debugger took over where the user stood, with positions.
    assert seen["final_line"] == FAILING_LINE - 1
    assert "position " in seen["after"] and "the run is indexed" in seen["after"]
    assert "indexing" not in seen["after"]
