"""`retrace-tui dap` as an editor drives it: a real recorded pytest failure, the adapter
as a real subprocess, and a small DAP client (dap_client.py) over its pipes or a TCP
socket. Every check is on what the client sees: stops, lines, paths, values, reasons."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from dap_client import TIMEOUT, AdapterProcess, DapClient, alive, frame, session_processes

from conftest import TWO_WORKERS, clean_environment, cli

TEST_FILE = """\
def add_tax(price, rate):
    taxed = price * (1 + rate)
    return round(taxed, 2)


def total(items):
    result = 0
    for item in items:
        result += add_tax(item, 0.2)
    return result


def test_total():
    items = [10, 20]
    expected = 35
    got = total(items)
    assert got == expected


def test_ok():
    assert add_tax(1, 0) == 1


def never_called():
    return "never"
"""
NEVER_RUNS = 25  # the body of never_called


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A pytest run with one failing test (36.0 != 35 at line 17), recorded once."""
    project = tmp_path_factory.mktemp("dap") / "project"
    project.mkdir()
    (project / "test_calc.py").write_text(TEST_FILE)
    recording = project / "pytest.retrace"
    run = cli("record", "-o", str(recording), "--", "-m", "pytest", "test_calc.py", "-q", "-p", "no:cacheprovider",
              cwd=project)
    assert run.status == 1 and recording.is_file(), run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    return recording


@pytest.fixture
def adapter(tmp_path, recorded):
    """`python -m retrace_tui dap` on pipes; afterwards it must have ended, with no process left."""
    started = AdapterProcess(clean_environment(), recorded.parent, tmp_path / "adapter-stderr.txt")
    started.seen = set()  # every process seen under the adapter (snapshots outlive their forking worker)
    yield started
    started.close()
    stderr = (tmp_path / "adapter-stderr.txt").read_text()
    assert "Traceback" not in stderr, stderr


def watch_processes(client) -> None:
    client.seen |= session_processes(client.process.pid)


def start(client, recorded: Path, **launch) -> dict:
    """initialize, launch, configurationDone: the first stopped event."""
    answer = client.request("initialize", {"adapterID": "retrace", "clientID": "tests", "linesStartAt1": True,
                                           "columnsStartAt1": True, "supportsProgressReporting": True})
    assert answer["success"], answer
    client.capabilities = answer["body"]
    answer = client.request("launch", {"recording": str(recorded), **launch})
    assert answer["success"], answer
    client.event("initialized")
    assert client.request("setExceptionBreakpoints", {"filters": ["failures"]})["success"]
    assert client.request("configurationDone")["success"]
    return client.event("stopped")["body"]


def move(client, command: str, **arguments) -> dict:
    answer = client.request(command, {"threadId": 1, **arguments})
    assert answer["success"], answer
    return client.event("stopped")["body"]


def top(client, thread: int = 1) -> dict:
    answer = client.request("stackTrace", {"threadId": thread, "startFrame": 0, "levels": 20})
    assert answer["success"], answer
    return answer["body"]["stackFrames"][0]


def local_values(client, frame_id: int) -> dict:
    scopes = client.request("scopes", {"frameId": frame_id})
    assert scopes["success"], scopes
    reference = scopes["body"]["scopes"][0]["variablesReference"]
    answer = client.request("variables", {"variablesReference": reference})
    assert answer["success"], answer
    return {variable["name"]: variable for variable in answer["body"]["variables"]}


def evaluate(client, expression: str, frame_id: int | None = None, context: str = "repl") -> dict:
    arguments = {"expression": expression, "context": context}
    if frame_id is not None:
        arguments["frameId"] = frame_id
    return client.request("evaluate", arguments)


def assert_ends_cleanly(client) -> None:
    """disconnect: a response, the adapter exits, and none of its processes is left."""
    watch_processes(client)
    assert client.seen, "the adapter started no worker: the test saw nothing to clean up"
    answer = client.request("disconnect", {"terminateDebuggee": True})
    assert answer["success"], answer
    assert client.ended(TIMEOUT)
    assert client.process.wait(TIMEOUT) == 0
    deadline = time.monotonic() + 20
    while alive(client.seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(client.seen), f"processes left after disconnect: {sorted(alive(client.seen))}"


# -- the must-hold walk-through -------------------------------------------------------------


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
    start(adapter, recorded)
    answer = adapter.request("gotoTargets", {"source": {"path": test_file}, "line": 2})
    targets = answer["body"]["targets"]
    assert len(targets) == 3 and all(t["line"] == 2 for t in targets)  # twice in test_total, once in test_ok
    stopped = move(adapter, "goto", targetId=targets[1]["id"])
    assert stopped["reason"] == "goto"
    frame0 = top(adapter)
    assert (frame0["name"], frame0["line"]) == ("add_tax", 2)
    assert evaluate(adapter, "price", frame0["id"])["body"]["result"] == "20"
    assert not adapter.request("goto", {"threadId": 1, "targetId": 999})["success"]
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
    adapter.request("setExceptionBreakpoints", {"filters": []})
    move(adapter, "continue")  # to the end: a reverse-continue from there searches the whole run
    answer = adapter.request("setBreakpoints", {"source": {"path": test_file},
                                                "breakpoints": [{"line": NEVER_RUNS}]})
    assert answer["body"]["breakpoints"][0]["verified"]
    watch_processes(adapter)
    adapter.send("reverseContinue", {"threadId": 1})
    time.sleep(0.3)
    assert adapter.request("pause", {"threadId": 1})["success"]
    stopped = adapter.event("stopped")["body"]
    # The search takes seconds; paused, the session is back where it stood: the end.
    assert stopped["reason"] == "pause", stopped
    assert adapter.request("stackTrace", {"threadId": 1})["body"]["stackFrames"] == []
    # And it goes on from there.
    adapter.request("setBreakpoints", {"source": {"path": test_file}, "breakpoints": [{"line": 17}]})
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


def test_threads_are_the_engines_and_each_has_its_stack(tmp_path):
    (tmp_path / "program.py").write_text(TWO_WORKERS)
    recording = tmp_path / "run.retrace"
    run = cli("record", "-o", str(recording), "--", "program.py", cwd=tmp_path)
    assert run.status == 0 and run.stdout == "[3, 6]\n", run.stderr
    client = AdapterProcess(clean_environment(), tmp_path, tmp_path / "stderr.txt")
    client.seen = set()
    try:
        assert start(client, recording)["reason"] == "entry"  # no failure: the first line
        answer = client.request("setBreakpoints", {"source": {"path": str(tmp_path / "program.py")},
                                                   "breakpoints": [{"line": 8, "condition": "factor == 2 and step == 1"}]})
        assert answer["body"]["breakpoints"][0]["verified"]
        stopped = move(client, "continue")
        threads = {t["name"]: t["id"] for t in client.request("threads")["body"]["threads"]}
        assert threads == {"MainThread": 1, "worker-1": 2, "worker-2": 3}
        assert stopped["threadId"] == threads["worker-2"] and stopped["allThreadsStopped"]
        frame0 = top(client, threads["worker-2"])
        assert (frame0["name"], frame0["line"]) == ("worker", 8)
        values = local_values(client, frame0["id"])
        assert (values["factor"]["value"], values["step"]["value"]) == ("2", "1")
        other = top(client, threads["worker-1"])  # another thread's stack and locals at the same moment
        assert other["name"] == "worker" and local_values(client, other["id"])["factor"]["value"] == "1"
        assert evaluate(client, "factor * 10", other["id"])["body"]["result"] == "10"
        assert top(client, threads["MainThread"])["name"] == "<module>"
        assert_ends_cleanly(client)
    finally:
        client.close()


def test_recorded_sources_that_are_gone_or_edited_come_from_the_recording(tmp_path):
    (tmp_path / "helper.py").write_text("def double(value):\n    doubled = value * 2\n    return doubled\n")
    (tmp_path / "program.py").write_text("import helper\n\nprint(helper.double(21))\n")
    recording = tmp_path / "run.retrace"
    assert cli("record", "-o", str(recording), "--", "program.py", cwd=tmp_path).stdout == "42\n"
    (tmp_path / "helper.py").unlink()  # gone since the recording
    (tmp_path / "program.py").write_text("# edited\nimport helper\n\nprint(helper.double(21))\n")
    client = AdapterProcess(clean_environment(), tmp_path, tmp_path / "stderr.txt")
    client.seen = set()
    try:
        start(client, recording)
        source = top(client)["source"]
        assert source["sourceReference"] > 0 and source["path"] == str(tmp_path / "program.py")
        text = client.request("source", {"source": source, "sourceReference": source["sourceReference"]})
        assert text["body"]["content"].startswith("import helper")  # as recorded, not as edited
        move(client, "next")
        move(client, "stepIn")
        frame0 = top(client)
        assert (frame0["name"], frame0["line"]) == ("double", 2)
        source = frame0["source"]
        assert source["sourceReference"] > 0 and source["origin"] == "recorded"
        text = client.request("source", {"source": source, "sourceReference": source["sourceReference"]})
        assert "doubled = value * 2" in text["body"]["content"]
        answer = client.request("setBreakpoints", {"source": source, "breakpoints": [{"line": 3}]})
        assert answer["body"]["breakpoints"][0]["verified"]
        assert move(client, "continue")["reason"] == "breakpoint"
        assert top(client)["line"] == 3 and evaluate(client, "doubled")["body"]["result"] == "42"
        assert_ends_cleanly(client)
    finally:
        client.close()


# -- bad input ----------------------------------------------------------------------------------


def test_malformed_messages_get_error_responses_and_the_adapter_goes_on(adapter, recorded, tmp_path):
    client = adapter

    def error_for(raw: bytes) -> dict:
        client.send_raw(raw)
        answer = client._take(lambda m: m.get("type") == "response", "an error response", TIMEOUT)
        assert answer["success"] is False and answer["message"] and "\n" not in answer["message"], answer
        return answer

    assert "not JSON" in error_for(b"Content-Length: 9\r\n\r\n{not json")["message"]
    assert "Content-Length" in error_for(b"Content-Type: text/plain\r\n\r\n")["message"]
    assert "not an object" in error_for(frame([1, 2, 3]))["message"]  # type: ignore[arg-type]
    assert "seq" in error_for(frame({"type": "request", "command": "threads"}))["message"]
    assert "unknown command 'flyToTheMoon'" in client.request("flyToTheMoon")["message"]
    assert client.request("initialize", {"adapterID": "retrace"})["success"]
    for command in ("threads", "stackTrace", "next", "stepBack", "evaluate", "configurationDone"):
        answer = client.request(command, {"threadId": 1, "expression": "1"})
        assert not answer["success"] and "launch" in answer["message"], answer
    answer = client.request("launch", {})
    assert not answer["success"] and "missing argument 'recording'" in answer["message"]
    answer = client.request("launch", {"recording": 42})
    assert not answer["success"] and "must be str" in answer["message"]
    # A recording that cannot be opened: a failed launch with the one-line reason.
    missing = tmp_path / "missing.retrace"
    answer = client.request("launch", {"recording": str(missing)})
    assert not answer["success"] and str(missing) in answer["message"] and "\n" not in answer["message"]
    garbage = tmp_path / "garbage.retrace"
    garbage.write_bytes(b"this is no recording\n" * 10)
    answer = client.request("launch", {"recording": str(garbage)})
    assert not answer["success"] and answer["message"].startswith(f"launch: cannot open {garbage}: ")
    assert answer["message"].count(str(garbage)) == 1 and "\n" not in answer["message"]
    # Then a good launch works, and bad arguments at a stop are errors too.
    answer = client.request("launch", {"recording": str(recorded)})
    assert answer["success"], answer
    client.event("initialized")
    assert not client.request("next", {"threadId": 1})["success"]  # before configurationDone
    client.request("configurationDone")
    assert client.event("stopped")["body"]["reason"] == "exception"
    assert not client.request("launch", {"recording": str(recorded)})["success"]  # already open
    assert "no variables reference" in client.request("variables", {"variablesReference": 9999})["message"]
    assert "no frame" in client.request("scopes", {"frameId": 9999})["message"]
    assert not client.request("setBreakpoints", {"breakpoints": [{"line": 3}]})["success"]
    answer = client.request("setBreakpoints", {"source": {"path": "/nowhere/x.py"}, "breakpoints": [{"line": 3}]})
    assert answer["success"] and not answer["body"]["breakpoints"][0]["verified"]
    answer = client.request("setBreakpoints", {"source": {"path": str(recorded.parent / "test_calc.py")},
                                               "breakpoints": [{"line": 9, "condition": "item =="}]})
    assert not answer["body"]["breakpoints"][0]["verified"]
    assert "condition" in answer["body"]["breakpoints"][0]["message"]
    # The references of the last stop are gone after a move.
    frame0 = top(client)
    move(client, "stepBack")
    assert "no frame" in client.request("scopes", {"frameId": frame0["id"]})["message"]
    assert_ends_cleanly(client)


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


def test_a_client_over_tcp_with_lines_counted_from_zero(tmp_path, recorded):
    stderr = open(tmp_path / "stderr.txt", "wb+")
    process = subprocess.Popen([sys.executable, "-m", "retrace_tui", "dap", "--port", "0"], stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, env=clean_environment(), cwd=recorded.parent)
    try:
        line = process.stderr.readline().decode()
        port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", line).group(1))
        connection = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        client = DapClient(connection.makefile("rb"), connection.makefile("wb"))
        client.process, client.seen = process, set()
        answer = client.request("initialize", {"adapterID": "retrace", "linesStartAt1": False})
        assert answer["body"]["supportsStepBack"]
        assert client.request("launch", {"recording": recorded.name, "cwd": str(recorded.parent)})["success"]
        client.event("initialized")
        client.request("configurationDone")
        assert client.event("stopped")["body"]["reason"] == "exception"
        assert top(client)["line"] == 16  # line 17, counted from 0
        answer = client.request("setBreakpoints", {"source": {"path": str(recorded.parent / "test_calc.py")},
                                                   "breakpoints": [{"line": 8}]})
        assert answer["body"]["breakpoints"][0]["line"] == 8
        move(client, "reverseContinue")
        assert (top(client)["name"], top(client)["line"]) == ("total", 8)
        assert_ends_cleanly(client)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(TIMEOUT)
        stderr.close()


def test_the_vscode_extension_is_shipped_and_written(tmp_path):
    from retrace_tui.dap.extension import shipped

    files = shipped()  # through importlib.resources, as from an installed wheel
    manifest = json.loads(files["package.json"])
    debugger = manifest["contributes"]["debuggers"][0]
    assert debugger["type"] == "retrace" and manifest["main"] == "./extension.js"
    snippets = [snippet["body"] for snippet in debugger["configurationSnippets"]]
    assert any(body.get("stopOnFailure") is False for body in snippets)
    assert any("pytest.retrace" in body["recording"] and body.get("failure") == -1 for body in snippets)
    assert b"DebugAdapterExecutable" in files["extension.js"]

    run = cli("dap", "--write-vscode-extension", str(tmp_path / "out"))
    assert run.status == 0, run.stderr
    folder = tmp_path / "out" / "retrace-tui-debug"
    vsix = tmp_path / "out" / "retrace-tui-debug-0.1.0.vsix"
    assert f"code --install-extension {vsix}" in run.stdout
    assert json.loads((folder / "package.json").read_text()) == manifest
    assert json.loads((folder / "adapter.json").read_text())["command"] == [sys.executable, "-m", "retrace_tui", "dap"]
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        assert {"extension.vsixmanifest", "[Content_Types].xml", "extension/package.json",
                "extension/extension.js", "extension/adapter.json"} <= names
        assert 'Id="retrace-tui-debug"' in archive.read("extension.vsixmanifest").decode()
    unwritable = tmp_path / "file"
    unwritable.write_text("")
    run = cli("dap", "--write-vscode-extension", str(unwritable / "sub"))
    assert run.status == 2 and run.stderr.count("\n") == 1 and "cannot write" in run.stderr


def test_the_wheel_ships_every_file_of_the_extension():
    """setup.py's package data (what a non-editable install copies) matches each file of
    retrace_tui/dap/vscode, so the extension an installed retrace-tui writes is whole."""
    import ast
    from fnmatch import fnmatch

    root = Path(__file__).resolve().parents[2]
    call = next(node for node in ast.walk(ast.parse((root / "setup.py").read_text()))
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup")
    keywords = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords
                if keyword.arg in ("packages", "package_data")}
    assert "retrace_tui.dap" in keywords["packages"]
    patterns = keywords["package_data"]["retrace_tui.dap"]
    folder = root / "retrace_tui" / "dap" / "vscode"
    files = [path.relative_to(folder.parent).as_posix() for path in folder.iterdir()]
    assert files and all(any(fnmatch(name, pattern) for pattern in patterns) for name in files), (files, patterns)
