"""`retrace-tui dap` as an editor drives it: a real recorded pytest failure, the adapter
as a real subprocess, and a small DAP client (dap_client.py) over its pipes. Every
check is on what the client sees: stops, lines, paths, values, reasons."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from dap_client import (
    NEVER_RUNS,
    TIMEOUT,
    alive,
    assert_ends_cleanly,
    evaluate,
    local_values,
    move,
    record_failing_run,
    start,
    started_adapter,
    top,
    watch_processes,
)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    return record_failing_run(tmp_path_factory.mktemp("dap") / "project")


@pytest.fixture
def adapter(tmp_path, recorded):
    yield from started_adapter(tmp_path, recorded.parent)


# -- the must-hold walk-through ------------------------------------------------------------


def test_a_failed_test_debugged_forwards_and_backwards(adapter, recorded):
    test_file = str(recorded.parent / "test_calc.py")
    stopped = start(adapter, recorded)
    caps = adapter.capabilities
    assert caps["supportsStepBack"] and caps["supportsConfigurationDoneRequest"]
    assert caps["supportsConditionalBreakpoints"] and caps["supportsEvaluateForHovers"]
    assert caps["supportsGotoTargetsRequest"] and caps["supportsTerminateRequest"]
    assert caps["supportsRestartFrame"] is False
    # The indexing pass was reported as progress.
    assert adapter.events("progressStart") and adapter.events("progressEnd")
    assert all(0 <= e["body"]["percentage"] <= 100 for e in adapter.events("progressUpdate"))

    # Stopped at the failing assert, as an exception, in the real file.
    assert stopped["reason"] == "exception" and stopped["threadId"] == 1 and stopped["allThreadsStopped"]
    assert "assert 36.0 == 35" in stopped["text"]
    assert [t["id"] for t in adapter.request("threads")["body"]["threads"]] == [1]
    frame0 = top(adapter)
    assert (frame0["name"], frame0["line"], frame0["source"]["path"]) == ("test_total", 17, test_file)
    info = adapter.request("exceptionInfo", {"threadId": 1})["body"]
    assert info["exceptionId"] == "AssertionError" and "36.0 == 35" in info["description"]
    watch_processes(adapter)

    # Back one line, into the call, a line on, a line back.
    assert move(adapter, "stepBack")["reason"] == "step"
    assert (top(adapter)["name"], top(adapter)["line"]) == ("test_total", 16)
    move(adapter, "stepIn")
    assert (top(adapter)["name"], top(adapter)["line"]) == ("total", 7)
    move(adapter, "next")
    assert top(adapter)["line"] == 8
    move(adapter, "stepBack")
    assert (top(adapter)["name"], top(adapter)["line"]) == ("total", 7)
    move(adapter, "stepOut")
    assert (top(adapter)["name"], top(adapter)["line"]) == ("test_total", 17)
    watch_processes(adapter)

    # A breakpoint on an earlier line, reached backwards: the last time it ran.
    answer = adapter.request("setBreakpoints", {"source": {"path": test_file},
                                                "breakpoints": [{"line": 9}, {"line": 4}]})
    assert answer["success"], answer
    set_9, set_4 = answer["body"]["breakpoints"]
    assert set_9["verified"] and set_9["line"] == 9
    assert not set_4["verified"] and "no code on line 4" in set_4["message"]
    stopped = move(adapter, "reverseContinue")
    assert stopped["reason"] == "breakpoint" and stopped["hitBreakpointIds"] == [set_9["id"]]
    frame0 = top(adapter)
    assert (frame0["name"], frame0["line"], frame0["source"]["path"]) == ("total", 9, test_file)
    values = local_values(adapter, frame0["id"])
    assert {name: v["value"] for name, v in values.items()} == {"items": "[10, 20]", "result": "12.0", "item": "20"}
    assert values["result"]["type"] == "float" and values["items"]["evaluateName"] == "items"
    # A local's children, lazily and paged.
    items = values["items"]["variablesReference"]
    assert items > 0
    children = adapter.request("variables", {"variablesReference": items})["body"]["variables"]
    assert [(c["name"], c["value"], c["evaluateName"]) for c in children] == [("[0]", "10", "items[0]"),
                                                                              ("[1]", "20", "items[1]")]
    page = adapter.request("variables", {"variablesReference": items, "start": 1, "count": 1})["body"]["variables"]
    assert [c["value"] for c in page] == ["20"]
    # Evaluate computes in that frame, in the REPL and on hover; the caller's frame too.
    assert evaluate(adapter, "result + item", frame0["id"])["body"]["result"] == "32.0"
    assert evaluate(adapter, "item * 2", frame0["id"], "hover")["body"]["result"] == "40"
    caller = adapter.request("stackTrace", {"threadId": 1, "levels": 2})["body"]["stackFrames"][1]
    assert (caller["name"], caller["line"]) == ("test_total", 16)
    assert evaluate(adapter, "expected - 1", caller["id"])["body"]["result"] == "34"
    failed = evaluate(adapter, "no_such_name", frame0["id"])
    assert not failed["success"] and "NameError" in failed["message"] and "\n" not in failed["message"]

    # A condition: the earlier iteration.
    answer = adapter.request("setBreakpoints", {"source": {"path": test_file},
                                                "breakpoints": [{"line": 9, "condition": "item == 10"}]})
    assert answer["body"]["breakpoints"][0]["verified"]
    assert move(adapter, "reverseContinue")["reason"] == "breakpoint"
    frame0 = top(adapter)
    values = local_values(adapter, frame0["id"])
    assert (frame0["line"], values["item"]["value"], values["result"]["value"]) == (9, "10", "0")
    # On to the failure (the exception filter), then to the end: the program's output came as events.
    stopped = move(adapter, "continue")
    assert stopped["reason"] == "exception" and top(adapter)["line"] == 17
    adapter.request("setBreakpoints", {"source": {"path": test_file}, "breakpoints": []})
    stopped = move(adapter, "continue")
    assert "end of the recording" in stopped["description"]
    assert adapter.request("stackTrace", {"threadId": 1})["body"]["stackFrames"] == []
    output = "".join(e["body"]["output"] for e in adapter.events("output") if e["body"]["category"] == "stdout")
    assert "1 failed, 1 passed" in output and "assert 36.0 == 35" in output
    watch_processes(adapter)
    assert_ends_cleanly(adapter)
    assert adapter.events("exited")[0]["body"]["exitCode"] == 1 and adapter.events("terminated")


def test_goto_targets_jump_to_each_run_of_a_line(adapter, recorded):
    test_file = str(recorded.parent / "test_calc.py")
    start(adapter, recorded, justMyCode=False)
    answer = adapter.request("gotoTargets", {"source": {"path": test_file}, "line": 2})
    targets = answer["body"]["targets"]
    assert len(targets) == 3 and all(t["line"] == 2 for t in targets)  # twice in test_total, once in test_ok
    stopped = move(adapter, "goto", targetId=targets[1]["id"])
    assert stopped["reason"] == "goto"
    frame0 = top(adapter)
    assert (frame0["name"], frame0["line"]) == ("add_tax", 2)
    assert evaluate(adapter, "price", frame0["id"])["body"]["result"] == "20"
    assert not adapter.request("goto", {"threadId": 1, "targetId": 999})["success"]
    # With justMyCode off, stepping out of the failing test goes into pytest's code (where
    # its exception is caught), shown as a subtle frame.
    for caller in ("total", "test_total"):
        move(adapter, "stepOut")
        assert top(adapter)["name"] == caller
    move(adapter, "stepOut")
    library = top(adapter)
    assert library["presentationHint"] == "subtle"
    assert "_pytest" in library["source"]["path"] or "pluggy" in library["source"]["path"]
    assert_ends_cleanly(adapter)


def test_hit_conditions_and_data_breakpoints(adapter, recorded):
    test_file = str(recorded.parent / "test_calc.py")
    stopped = start(adapter, recorded, stopOnFailure=False)
    assert stopped["reason"] == "entry"
    answer = adapter.request("setBreakpoints", {"source": {"path": test_file},
                                                "breakpoints": [{"line": 2, "hitCondition": "2"}]})
    assert answer["body"]["breakpoints"][0]["verified"], answer
    assert move(adapter, "continue")["reason"] == "breakpoint"
    frame0 = top(adapter)
    assert frame0["line"] == 2 and evaluate(adapter, "price", frame0["id"])["body"]["result"] == "20"
    answer = adapter.request("setBreakpoints", {"source": {"path": test_file},
                                                "breakpoints": [{"line": 2, "hitCondition": "1"}]})
    stopped = move(adapter, "reverseContinue")
    assert stopped["hitBreakpointIds"] == [answer["body"]["breakpoints"][0]["id"]]
    assert evaluate(adapter, "price", top(adapter)["id"])["body"]["result"] == "10"
    answer = adapter.request("setBreakpoints", {"source": {"path": test_file},
                                                "breakpoints": [{"line": 2, "hitCondition": "every"}]})
    assert not answer["body"]["breakpoints"][0]["verified"]
    adapter.request("setBreakpoints", {"source": {"path": test_file}, "breakpoints": []})

    # A data breakpoint on total()'s result: continue stops where it changes.
    move(adapter, "stepOut")
    frame0 = top(adapter)
    assert (frame0["name"], frame0["line"]) == ("total", 8)
    assert local_values(adapter, frame0["id"])["result"]["value"] == "12.0"
    scope = adapter.request("scopes", {"frameId": frame0["id"]})["body"]["scopes"][0]
    info = adapter.request("dataBreakpointInfo", {"variablesReference": scope["variablesReference"],
                                                  "name": "result"})["body"]
    assert info["dataId"] and info["accessTypes"] == ["write"]
    answer = adapter.request("setDataBreakpoints", {"breakpoints": [{"dataId": info["dataId"]}]})
    assert answer["body"]["breakpoints"][0]["verified"], answer
    stopped = move(adapter, "continue")
    assert stopped["reason"] == "data breakpoint" and "12.0 → 36.0" in stopped["description"], stopped
    assert stopped["hitBreakpointIds"] == [answer["body"]["breakpoints"][0]["id"]]
    assert_ends_cleanly(adapter)


def test_pause_cancels_a_long_move(adapter, recorded):
    test_file = str(recorded.parent / "test_calc.py")
    start(adapter, recorded)
    # A line of pytest's that runs thousands of times, with a condition that is never true
    # and has side effects for all the engine knows (each hit is evaluated in a fork).
    library = next(f for f in adapter.request("stackTrace", {"threadId": 1})["body"]["stackFrames"]
                   if f["name"] == "_multicall" and f.get("presentationHint") == "subtle")  # pluggy's
    adapter.request("setExceptionBreakpoints", {"filters": []})
    move(adapter, "continue")  # to the end: a reverse-continue from there searches the whole run
    answer = adapter.request("setBreakpoints", {"source": library["source"], "breakpoints": [
        {"line": library["line"], "condition": "sorted([]) == [1]"}]})
    assert answer["body"]["breakpoints"][0]["verified"]
    watch_processes(adapter)
    adapter.send("reverseContinue", {"threadId": 1})
    time.sleep(0.5)
    assert adapter.request("pause", {"threadId": 1})["success"]
    stopped = adapter.event("stopped")["body"]
    # The search takes seconds; paused, the session is back where it stood: the end.
    assert stopped["reason"] == "pause", stopped
    assert adapter.request("stackTrace", {"threadId": 1})["body"]["stackFrames"] == []
    # And it goes on from there.
    adapter.request("setBreakpoints", {"source": library["source"], "breakpoints": []})
    answer = adapter.request("setBreakpoints", {"source": {"path": test_file},
                                                "breakpoints": [{"line": 17}, {"line": NEVER_RUNS}]})
    assert all(b["verified"] for b in answer["body"]["breakpoints"])
    assert move(adapter, "reverseContinue")["reason"] == "breakpoint"
    assert top(adapter)["line"] == 17
    assert_ends_cleanly(adapter)


def test_a_launch_can_be_cancelled_and_a_disconnect_ends_one(adapter, recorded):
    adapter.request("initialize", {"adapterID": "retrace", "supportsProgressReporting": True})
    seq = adapter.send("launch", {"recording": str(recorded)})
    progress = adapter.event("progressStart")["body"]
    assert progress["cancellable"]
    assert adapter.request("cancel", {"progressId": progress["progressId"]})["success"]
    answer = adapter.response(seq)
    assert not answer["success"] and "cancelled" in answer["message"], answer
    adapter.event("progressEnd")
    # Another launch, ended by a disconnect while it indexes: nothing is left.
    seq = adapter.send("launch", {"recording": str(recorded)})
    adapter.event("progressStart")
    deadline = time.monotonic() + TIMEOUT
    while not adapter.seen and time.monotonic() < deadline:  # its replay worker has started
        watch_processes(adapter)
        time.sleep(0.02)
    assert_ends_cleanly(adapter)
    assert adapter.response(seq)["command"] == "launch"  # failed, or done just before the disconnect


def test_end_of_input_ends_the_adapter(adapter, recorded):
    start(adapter, recorded)
    watch_processes(adapter)
    adapter.process.stdin.close()
    assert adapter.process.wait(TIMEOUT) == 0
    deadline = time.monotonic() + 20
    while alive(adapter.seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(adapter.seen)


# -- TCP, line numbering, the VS Code extension -------------------------------------------------
