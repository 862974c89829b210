"""Data passed out of the program: writes to fds 1 and 2 keep their bytes.

``sys.stdout`` and ``sys.stderr`` are rebuilt over a FileIO subclass that records each
write, so ``print`` costs one event per flushed buffer, not per call. ``os.write`` keeps
the bytes for fds 1 and 2 and only length and CRC for other files (enough for replay to
notice different data without storing every file twice).
"""
from __future__ import annotations

import io
import sys
from binascii import crc32

from retrace_core.boundary.guard import guard
from retrace_core.boundary.wrappers import Headers, copy_identity, non_binding

STDOUT, STDERR = 1, 2

# The streams Python created at startup. They own fds 1 and 2 (closefd=True), so they
# must outlive the replacements or their collection would close the program's output.
_original_streams: list = []


def written(fd: int, data, count) -> tuple:
    """What the tape keeps of a write: its bytes for fds 1/2, else length and CRC."""
    if fd == STDOUT or fd == STDERR:
        return (fd, bytes(data[:count]) if isinstance(count, int) else bytes(data))
    view = memoryview(data)
    return (fd, [view.nbytes, crc32(view)])


def os_write(entry, original, tape):
    headers = Headers(tape, entry.qualified_name, True)

    def recorded_write(fd, data):
        if guard.busy:
            return original(fd, data)
        guard.busy = True
        try:
            count = original(fd, data)
        except BaseException as exc:
            guard.busy = False
            tape.raised(headers.raised, written(fd, data, None), exc)
            raise
        guard.busy = False
        tape.returned_with_arguments(headers.returned, written(fd, data, count), count)
        return count

    return non_binding(copy_identity(recorded_write, original))


class RecordedStandardStream(io.FileIO):
    """fd 1 or 2: each write and each isatty() is an event."""

    def __init__(self, fd: int, tape) -> None:
        super().__init__(fd, "wb", closefd=False)
        name = "stdout" if fd == STDOUT else "stderr"
        self._tape = tape
        self._write_headers = Headers(tape, f"sys.{name}.write", True)
        self._isatty_headers = Headers(tape, f"sys.{name}.isatty", False)

    def write(self, data):
        if guard.busy:
            return io.FileIO.write(self, data)
        guard.busy = True
        try:
            count = io.FileIO.write(self, data)
        except BaseException as exc:
            guard.busy = False
            self._tape.raised(self._write_headers.raised, (bytes(data),), exc)
            raise
        guard.busy = False
        kept = bytes(data[:count]) if count is not None else b""
        self._tape.returned_with_arguments(self._write_headers.returned, (kept,), count)
        return count

    def isatty(self) -> bool:
        if guard.busy:
            return io.FileIO.isatty(self)
        guard.busy = True
        result = io.FileIO.isatty(self)
        guard.busy = False
        self._tape.returned(self._isatty_headers.returned, result)
        return result


def _rebuild(stream, fd: int, tape):
    if stream is None or getattr(stream, "fileno", None) is None:
        return stream
    try:
        if stream.fileno() != fd:
            return stream
    except (OSError, ValueError, io.UnsupportedOperation):
        return stream
    stream.flush()
    raw = RecordedStandardStream(fd, tape)
    buffered = isinstance(getattr(stream, "buffer", None), io.BufferedWriter)
    binary = io.BufferedWriter(raw) if buffered else raw
    replacement = io.TextIOWrapper(
        binary, encoding=stream.encoding, errors=stream.errors, newline="\n",
        line_buffering=stream.line_buffering, write_through=stream.write_through)
    _original_streams.append(stream)
    return replacement


def standard_stream(entry, original, tape):
    """Special for ``sys.stdout`` / ``sys.stderr``: a recording stream in their place."""
    fd = STDOUT if entry.name == "stdout" else STDERR
    replacement = _rebuild(original, fd, tape)
    dunder = f"__{entry.name}__"
    if getattr(sys, dunder, None) is original:
        setattr(sys, dunder, replacement)
    return replacement
