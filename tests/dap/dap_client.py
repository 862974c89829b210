"""A small Debug Adapter Protocol client for the tests: Content-Length framed JSON over
a pipe or a socket, every wait bounded, so a silent adapter fails a test instead of
hanging it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

TIMEOUT = 60.0  # seconds any one answer may take (an indexing pass included)


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def read_frames(stream, received: list, ready: threading.Condition) -> None:
    """Read frames until the stream ends; each message goes into ``received``."""
    while True:
        length = None
        while True:
            line = stream.readline()
            if not line:
                with ready:
                    received.append(None)  # the end of the stream
                    ready.notify_all()
                return
            if line == b"\r\n" and length is not None:
                break
            if not line.endswith(b"\r\n") or b":" not in line:  # anything but a frame on the adapter's stdout
                with ready:
                    received.append({"type": "garbage", "line": line.decode(errors="replace")})
                    ready.notify_all()
                continue
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = stream.read(length)
        with ready:
            received.append(json.loads(body))
            ready.notify_all()


class DapClient:
    """Sends requests and waits for their responses and for events, in order."""

    def __init__(self, reading, writing) -> None:
        self._writing = writing
        self._received: list = []
        self._taken: set[int] = set()
        self._ready = threading.Condition()
        self._seq = 0
        self._reader = threading.Thread(target=read_frames, args=(reading, self._received, self._ready), daemon=True)
        self._reader.start()

    # -- sending -------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        self._writing.write(data)
        self._writing.flush()

    def send(self, command: str, arguments: dict | None = None) -> int:
        self._seq += 1
        message = {"seq": self._seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        self.send_raw(frame(message))
        return self._seq

    def request(self, command: str, arguments: dict | None = None, timeout: float = TIMEOUT) -> dict:
        seq = self.send(command, arguments)
        return self.response(seq, timeout)

    # -- waiting -------------------------------------------------------------------------

    def _take(self, matches, what: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        with self._ready:
            while True:
                for number, message in enumerate(self._received):
                    if number in self._taken:
                        continue
                    if message is None:
                        raise AssertionError(f"the adapter closed its output while the test waited for {what}")
                    if message.get("type") == "garbage":
                        raise AssertionError(f"the adapter wrote something that is no DAP frame: {message['line']!r}")
                    if matches(message):
                        self._taken.add(number)
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {what} within {timeout} s; received: {self.summary()}")
                self._ready.wait(left)

    def response(self, seq: int, timeout: float = TIMEOUT) -> dict:
        return self._take(lambda m: m.get("type") == "response" and m.get("request_seq") == seq,
                          f"response to request {seq}", timeout)

    def event(self, name: str, timeout: float = TIMEOUT) -> dict:
        """The next event called ``name`` not taken yet."""
        return self._take(lambda m: m.get("type") == "event" and m.get("event") == name, f"{name!r} event", timeout)

    def events(self, name: str) -> list[dict]:
        """Every event called ``name`` received so far, taken or not (and marks them taken)."""
        with self._ready:
            found = []
            for number, message in enumerate(self._received):
                if message is not None and message.get("type") == "event" and message.get("event") == name:
                    self._taken.add(number)
                    found.append(message)
            return found

    def ended(self, timeout: float = TIMEOUT) -> bool:
        """Wait for the end of the adapter's output."""
        deadline = time.monotonic() + timeout
        with self._ready:
            while None not in self._received:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._ready.wait(left)
        return True

    def summary(self) -> str:
        return ", ".join(f"{m.get('type')}:{m.get('event') or m.get('command')}" if m else "EOF"
                         for m in self._received[-20:])


class AdapterProcess(DapClient):
    """`python -m retrace_tui dap` as a real subprocess, over its stdin/stdout."""

    def __init__(self, environment: dict, cwd, stderr_path) -> None:
        self.stderr = open(stderr_path, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "retrace_tui", "dap"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.stderr, env=environment, cwd=cwd)
        super().__init__(self.process.stdout, self.process.stdin)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(TIMEOUT)
        self.stderr.close()


def session_processes(pid: int) -> set[int]:
    """Every living process of the debug sessions of the adapter ``pid``: its children
    and the replay workers and snapshots (forks whose parent may have gone: they are
    found by the session folder, ``/tmp/retrace-session-<pid>-*``, in their environment)."""
    marker = f"retrace-session-{pid}-".encode()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == pid:
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
            with open(f"/proc/{entry}/environ", "rb") as environ:
                environment = environ.read()
        except OSError:
            continue
        if fields[0] != "Z" and (int(fields[1]) == pid or marker in environment):
            found.add(int(entry))
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` that still run (not gone, not zombies)."""
    living = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                state = stat.read().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


# -- a debug session on a recorded pytest failure ---------------------------------------------

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




def record_failing_run(project: Path) -> Path:
    """Record the pytest run of TEST_FILE (one test fails: 36.0 != 35 at line 17) in ``project``."""
    from conftest import cli

    project.mkdir(parents=True, exist_ok=True)
    (project / "test_calc.py").write_text(TEST_FILE)
    recording = project / "pytest.retrace"
    run = cli("record", "-o", str(recording), "--", "-m", "pytest", "test_calc.py", "-q", "-p", "no:cacheprovider",
              cwd=project)
    assert run.status == 1 and recording.is_file(), run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    return recording


def started_adapter(tmp_path: Path, cwd: Path):
    """A fixture's body: `python -m retrace_tui dap` on pipes; afterwards it must have
    ended, and said nothing alarming on stderr."""
    from conftest import clean_environment

    started = AdapterProcess(clean_environment(), cwd, tmp_path / "adapter-stderr.txt")
    started.seen = set()  # every process seen of its sessions (see session_processes)
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

