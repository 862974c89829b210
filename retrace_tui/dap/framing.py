"""Content-Length framed JSON, the wire format of the Debug Adapter Protocol.

Each message is ``Content-Length: N\\r\\n\\r\\n`` followed by N bytes of UTF-8 JSON.
Reading is forgiving where it can be: a frame without a usable header or with a body
that is not a JSON object is reported as a `BadFrame` (the adapter answers it with an
error response) and the stream goes on with the next frame. Writing takes a lock, so
the reader thread and the engine thread never interleave their frames.
"""
from __future__ import annotations

import json
import threading
from typing import BinaryIO

MAX_BODY = 64 * 1024 * 1024  # a client that announces more is broken (or hostile)


class BadFrame(Exception):
    """A frame that could not be read as a DAP message; the message is one line."""

    def __init__(self, message: str, seq: int = 0, command: str = "") -> None:
        super().__init__(message)
        self.seq, self.command = seq, command


def read_message(stream: BinaryIO) -> dict | None:
    """The next message, or None at the end of the stream. Raises BadFrame for a frame
    that is not a message (the stream is left at the start of the next one)."""
    length: int | None = None
    problem: str | None = None
    seen_header = False
    while True:
        line = stream.readline(65536)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            if not seen_header:
                continue  # blank lines between frames
            break
        seen_header = True
        name, colon, value = line.decode("latin-1").strip().partition(":")
        if not colon:
            problem = problem or f"bad header line {line[:60].decode('latin-1').strip()!r}"
        elif name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                problem = problem or f"bad Content-Length {value.strip()[:30]!r}"
    if problem is None and length is None:
        problem = "a frame without a Content-Length header"
    if problem is None and not 0 <= length <= MAX_BODY:
        problem = f"Content-Length {length} out of range"
    if problem is not None:
        raise BadFrame(problem)
    body = stream.read(length)
    if len(body) < length:
        return None  # the stream ended inside a frame
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadFrame(f"the body is not JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(message, dict):
        raise BadFrame(f"the body is a JSON {type(message).__name__}, not an object")
    return message


def encode(message: dict) -> bytes:
    body = json.dumps(message, separators=(",", ":"), default=str).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class Writer:
    """Writes messages to one stream, numbering them (``seq``) and one at a time."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._seq = 0
        self.closed = False

    def send(self, message: dict) -> None:
        with self._lock:
            if self.closed:
                return
            self._seq += 1
            message = {"seq": self._seq, **message}
            try:
                self._stream.write(encode(message))
                self._stream.flush()
            except (OSError, ValueError):  # the client went away: nothing more to say
                self.closed = True
