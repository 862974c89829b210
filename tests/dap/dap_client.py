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
            if line in (b"\r\n", b"\n"):
                break
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
