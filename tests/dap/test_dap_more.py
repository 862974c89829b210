"""`retrace-tui dap` beyond the walk-through: bad input, TCP, threads, recorded sources,
and the VS Code extension the package ships."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from dap_client import (
    TIMEOUT,
    AdapterProcess,
    DapClient,
    assert_ends_cleanly,
    evaluate,
    frame,
    local_values,
    move,
    record_failing_run,
    start,
    started_adapter,
    top,
    watch_processes,
)

from conftest import clean_environment, cli
from retrace_core.tape.recording import Recording


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    return record_failing_run(tmp_path_factory.mktemp("dap") / "project")


@pytest.fixture
def adapter(tmp_path, recorded):
    yield from started_adapter(tmp_path, recorded.parent)


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
    assert "bad arguments" in client.request("stackTrace", {"threadId": 1, "startFrame": "one"})["message"]
    assert not client.request("stackTrace", {"threadId": 99})["success"]  # no such thread
    assert not client.request("setBreakpoints", {"breakpoints": [{"line": 3}]})["success"]
    answer = client.request("setBreakpoints", {"source": {"path": "/nowhere/x.py"}, "breakpoints": [{"line": 3}]})
    assert answer["success"] and not answer["body"]["breakpoints"][0]["verified"]
    answer = client.request("setBreakpoints", {"source": {"path": json.__file__}, "breakpoints": [{"line": 1}]})
    assert "standard library" in answer["body"]["breakpoints"][0]["message"]
    answer = client.request("setBreakpoints", {"source": {"path": str(recorded.parent / "test_calc.py")},
                                               "breakpoints": [{"line": 9, "condition": "item =="}]})
    assert not answer["body"]["breakpoints"][0]["verified"]
    assert "condition" in answer["body"]["breakpoints"][0]["message"]
    # The references of the last stop are gone after a move.
    frame0 = top(client)
    move(client, "stepBack")
    assert "no frame" in client.request("scopes", {"frameId": frame0["id"]})["message"]
    assert_ends_cleanly(client)


# Two workers that meet at a barrier before and after their loops: while one loops, the
# other is alive too, however the threads were scheduled when it was recorded.
TWO_WORKERS = """\
import threading

barrier = threading.Barrier(2)
results = {}

def worker(factor):
    barrier.wait()
    total = 0
    for step in range(3):
        total += step * factor
    barrier.wait()
    results[factor] = total

threads = [threading.Thread(target=worker, args=(factor,), name=f"worker-{factor}") for factor in (1, 2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(sorted(results.items()))
"""


def test_threads_are_the_engines_and_each_has_its_stack(tmp_path):
    (tmp_path / "program.py").write_text(TWO_WORKERS)
    recording = tmp_path / "run.retrace"
    run = cli("record", "-o", str(recording), "--", "program.py", cwd=tmp_path)
    assert run.status == 0 and run.stdout == "[(1, 3), (2, 6)]\n", run.stderr
    client = AdapterProcess(clean_environment(), tmp_path, tmp_path / "stderr.txt")
    client.seen = set()
    try:
        assert start(client, recording)["reason"] == "entry"  # no failure: the first line
        answer = client.request("setBreakpoints", {"source": {"path": str(tmp_path / "program.py")},
                                                   "breakpoints": [{"line": 10,
                                                                    "condition": "factor == 2 and step == 1"}]})
        assert answer["body"]["breakpoints"][0]["verified"]
        stopped = move(client, "continue")
        threads = {t["name"]: t["id"] for t in client.request("threads")["body"]["threads"]}
        assert threads == {"MainThread": 1, "worker-1": 2, "worker-2": 3}
        assert stopped["threadId"] == threads["worker-2"] and stopped["allThreadsStopped"]
        frame0 = top(client, threads["worker-2"])
        assert (frame0["name"], frame0["line"]) == ("worker", 10)
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
        # terminate ends the session (exited with the recorded status, terminated), disconnect the adapter.
        watch_processes(client)
        assert client.request("terminate")["success"]
        assert client.event("exited")["body"]["exitCode"] == 1
        client.event("terminated")
        answer = client.request("threads")
        assert not answer["success"] and "launch" in answer["message"]
        assert_ends_cleanly(client)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(TIMEOUT)
        stderr.close()


# Loads extension.js with a stand-in `vscode` module, activates it, and prints the
# command its DebugAdapterExecutable would start.
ACTIVATE = """
const Module = require("module");
const load = Module._load;
let registered = null;
Module._load = function (request, ...rest) {
  if (request !== "vscode") return load.call(this, request, ...rest);
  return {
    workspace: { getConfiguration: () => ({ get: () => [] }) },
    debug: { registerDebugAdapterDescriptorFactory: (type, factory) => {
      registered = { type, factory }; return { dispose() {} }; } },
    DebugAdapterExecutable: class { constructor(command, args) { this.command = command; this.args = args; } },
  };
};
const extension = require(process.argv[1]);
extension.activate({ subscriptions: [] });
const started = registered.factory.createDebugAdapterDescriptor({});
console.log(JSON.stringify({ type: registered.type, command: started.command, args: started.args }));
"""


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
    if shutil.which("node"):  # the extension as VS Code runs it, against a stand-in of the vscode module
        activated = subprocess.run(["node", "-e", ACTIVATE, str(folder / "extension.js")], capture_output=True,
                                   text=True, timeout=TIMEOUT)
        assert activated.returncode == 0, activated.stderr
        started = json.loads(activated.stdout)
        assert started == {"type": "retrace", "command": sys.executable, "args": ["-m", "retrace_tui", "dap"]}
        adapter = subprocess.run([started["command"], *started["args"]], input=frame(
            {"seq": 1, "type": "request", "command": "initialize", "arguments": {"adapterID": "retrace"}}),
            capture_output=True, timeout=TIMEOUT, env=clean_environment())
        assert adapter.returncode == 0 and b'"supportsStepBack":true' in adapter.stdout
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


def test_launch_opens_the_process_asked_for(tmp_path):
    (tmp_path / "program.py").write_text('import subprocess, sys\nsubprocess.run([sys.executable, "child.py"])\n')
    (tmp_path / "child.py").write_text("x = 41\nprint(x + 1)\n")
    recording = tmp_path / "run.retrace"
    assert cli("record", "-o", str(recording), "--", "program.py", cwd=tmp_path).stdout == "42\n"
    with Recording(str(recording)) as opened:
        child = next(p["pid"] for p in opened.processes() if p["pid"] != opened.processes()[0]["pid"])
    client = AdapterProcess(clean_environment(), tmp_path, tmp_path / "stderr.txt")
    client.seen = set()
    try:
        client.request("initialize", {"adapterID": "retrace"})
        answer = client.request("launch", {"recording": str(recording), "pid": 1})
        assert not answer["success"] and "\n" not in answer["message"] and "1" in answer["message"]
        assert client.request("launch", {"recording": str(recording), "pid": child})["success"]
        client.event("initialized")
        client.request("configurationDone")
        assert client.event("stopped")["body"]["reason"] == "entry"
        frame0 = top(client)
        assert (frame0["source"]["path"], frame0["line"]) == (str(tmp_path / "child.py"), 1)
        move(client, "next")
        assert evaluate(client, "x + 1")["body"]["result"] == "42"
        move(client, "continue")
        assert "42\n" in "".join(e["body"]["output"] for e in client.events("output"))
        assert_ends_cleanly(client)
    finally:
        client.close()
