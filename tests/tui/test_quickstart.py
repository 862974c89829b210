"""The quickstart walkthrough (quickstart/README.md, step 3), as a user follows it."""
from __future__ import annotations

import json

from conftest import cli
from retrace_tui.app import RetraceApp
from retrace_tui.widgets.locals import LocalsView
from retrace_tui.widgets.source import SourceView
from tui_helpers import drive, failing_line_number, settle


def local(app, name: str) -> str:
    return {value["name"]: value["repr"] for value in app.view.locals}[name]


def test_inspect_names_the_failing_test_and_the_bad_value(quickstart_recording):
    shown = cli("inspect", str(quickstart_recording), "--at", "failure", "--json")
    assert shown.status == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state["exception"]["nodeid"] == "tests/test_receipt.py::test_fixed_coupon_is_taken_off_the_order_once"
    assert state["exception"]["type"] == "AssertionError"
    receipt = next(value for value in state["frames"][0]["locals"] if value["name"] == "receipt")
    assert "discount=Decimal('13.49')" in receipt["repr"]
    assert {test["outcome"] for test in state["tests"]} == {"passed", "failed"} and len(state["tests"]) == 9


def test_the_walkthrough_from_the_failure_back_to_the_cause(quickstart_recording):
    receipt_source = (quickstart_recording.parent / "checkout" / "receipt.py").read_text().splitlines()
    discount_line = next(number for number, text in enumerate(receipt_source, 1)
                         if "discount += offer.discount_on(line.amount)" in text)

    async def script(pilot):
        await settle(pilot)
        app = pilot.app
        assert app.view.current_line == failing_line_number(quickstart_recording)
        # Expand `receipt` in the locals tree: its discount is 13.49.
        tree = app.query_one(LocalsView)
        tree.focus()
        node = next(child for child in tree.root.children if child.data.path == ["receipt"])
        tree.move_cursor(node)
        await pilot.press("enter")
        await settle(pilot)
        assert any("discount: Decimal = Decimal('13.49')" in str(child.label) for child in node.children)
        # b: back to where the receipt was built; s: into build_receipt.
        await pilot.press("b")
        await settle(pilot)
        assert app.view.current_line == failing_line_number(quickstart_recording) - 1
        await pilot.press("s")
        await settle(pilot)
        assert app.view.frames[0]["function"] == "build_receipt"
        source = app.query_one(SourceView)
        source.focus()
        for _ in range(discount_line - source.cursor_line):
            await pilot.press("down")
        await pilot.press("x")
        seen = []
        for _ in range(3):
            await pilot.press("c")
            await settle(pilot)
            assert app.view.current_line == discount_line
            seen.append((local(app, "sku"), local(app, "discount")))
        assert seen == [("'beans'", "Decimal('0.00')"), ("'filters'", "Decimal('5.00')"),
                        ("'mug'", "Decimal('8.49')")]
        await pilot.press("C")
        await settle(pilot)
        assert (local(app, "sku"), local(app, "discount")) == ("'filters'", "Decimal('5.00')")
        await pilot.press("g")
        await settle(pilot)
        assert app.view.current_line == failing_line_number(quickstart_recording)

    drive(RetraceApp(str(quickstart_recording)), script)
