"""``open()``: real io stacks over a recording raw layer.

The program gets genuine ``TextIOWrapper`` / ``BufferedReader`` objects, built exactly
as ``io.open`` builds them, but the raw layer underneath is :class:`RecordedFile`,
whose every system-level operation (read, write, seek, tell, truncate, close) is an
event. Reads keep their bytes so that replay can serve files that are gone; writes
keep length and CRC.
"""
from __future__ import annotations

import io
import os
import warnings
from binascii import crc32

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, copy_identity, non_binding

_VALID_MODE_CHARACTERS = frozenset("axrwb+t")


class FileEvents:
    """Interned headers for the operations of recorded files."""

    def __init__(self, tape) -> None:
        self.tape = tape
        self.open = Headers(tape, "io.open", True)
        self.read = Headers(tape, "file.read", True)
        self.write = Headers(tape, "file.write", True)
        self.seek = Headers(tape, "file.seek", True)
        self.tell = Headers(tape, "file.tell", True)
        self.truncate = Headers(tape, "file.truncate", True)
        self.close = Headers(tape, "file.close", True)


class RecordedFile(io.RawIOBase):
    """The raw layer of a file opened by the program."""

    def __init__(self, real: io.FileIO, events: FileEvents, seekable: bool, isatty: bool) -> None:
        super().__init__()
        self._real = real
        self._events = events
        self._fd = real.fileno()
        self._seekable = seekable
        self._isatty = isatty
        self.name = real.name
        self.mode = real.mode

    def __repr__(self) -> str:
        return f"<RecordedFile name={self.name!r} mode={self.mode!r}>"

    @property
    def closefd(self) -> bool:
        return self._real.closefd

    def fileno(self) -> int:
        return self._fd

    def readable(self) -> bool:
        return self._real.readable()

    def writable(self) -> bool:
        return self._real.writable()

    def seekable(self) -> bool:
        return self._seekable

    def isatty(self) -> bool:
        return self._isatty

    def readinto(self, buffer) -> int | None:
        events = self._events
        view = memoryview(buffer).cast("B")
        return record(events.read, events.tape, lambda: self._real.readinto(view), (self._fd, view.nbytes),
                      lambda count: bytes(view[:count]) if count else count)

    def readall(self) -> bytes:
        events = self._events
        return record(events.read, events.tape, self._real.readall, (self._fd, -1))

    def write(self, data) -> int | None:
        events = self._events
        view = memoryview(data).cast("B")
        return record(events.write, events.tape, lambda: self._real.write(view),
                      (self._fd, [view.nbytes, crc32(view)]))

    def seek(self, offset: int, whence: int = 0) -> int:
        events = self._events
        return record(events.seek, events.tape, lambda: self._real.seek(offset, whence), (self._fd, offset, whence))

    def tell(self) -> int:
        events = self._events
        return record(events.tell, events.tape, self._real.tell, (self._fd,))

    def truncate(self, size: int | None = None) -> int:
        events = self._events
        return record(events.truncate, events.tape, lambda: self._real.truncate(size), (self._fd, size))

    def close(self) -> None:
        if self.closed:
            return
        events = self._events
        try:
            record(events.close, events.tape, self._real.close, (self._fd,))
        finally:
            super().close()


def _check_mode(mode: str, encoding, errors, newline, buffering) -> tuple[str, bool]:
    """Validate like io.open; returns the FileIO mode and whether the file is binary."""
    if not isinstance(mode, str):
        raise TypeError(f"open() argument 'mode' must be str, not {type(mode).__name__}")
    modes = set(mode)
    if modes - _VALID_MODE_CHARACTERS or len(mode) > len(modes):
        raise ValueError(f"invalid mode: '{mode}'")
    creating, reading, writing, appending = ("x" in modes), ("r" in modes), ("w" in modes), ("a" in modes)
    updating, text, binary = "+" in modes, "t" in modes, "b" in modes
    if text and binary:
        raise ValueError("can't have text and binary mode at once")
    if creating + reading + writing + appending != 1:
        raise ValueError("must have exactly one of create/read/write/append mode")
    if binary and encoding is not None:
        raise ValueError("binary mode doesn't take an encoding argument")
    if binary and errors is not None:
        raise ValueError("binary mode doesn't take an errors argument")
    if binary and newline is not None:
        raise ValueError("binary mode doesn't take a newline argument")
    if binary and buffering == 1:
        warnings.warn("line buffering (buffering=1) isn't supported in binary mode, "
                      "the default buffer size will be used", RuntimeWarning, 3)
    raw_mode = ("x" if creating else "") + ("r" if reading else "") + ("w" if writing else "") + \
        ("a" if appending else "") + ("+" if updating else "")
    return raw_mode, binary


def _layer(raw: RecordedFile, mode: str, raw_mode: str, binary: bool, buffering: int, blksize: int,
           encoding, errors, newline):
    """Buffer and text layers on top of ``raw``, as io.open puts them."""
    line_buffering = False
    if buffering == 1 or (buffering < 0 and raw.isatty()):
        buffering = -1
        line_buffering = True
    if buffering < 0:
        buffering = blksize if blksize > 1 else io.DEFAULT_BUFFER_SIZE
    if buffering == 0:
        if binary:
            return raw
        raise ValueError("can't have unbuffered text I/O")
    if "+" in raw_mode:
        buffer = io.BufferedRandom(raw, buffering)
    elif "r" in raw_mode:
        buffer = io.BufferedReader(raw, buffering)
    else:
        buffer = io.BufferedWriter(raw, buffering)
    if binary:
        return buffer
    text = io.TextIOWrapper(buffer, io.text_encoding(encoding), errors, newline, line_buffering)
    text.mode = mode
    return text


def open_(entry, original, tape):
    events = FileEvents(tape)

    def open_real(file, raw_mode, closefd, opener):
        real = io.FileIO(file, raw_mode, closefd, opener=opener)
        try:
            blksize = os.fstat(real.fileno()).st_blksize
        except OSError:
            blksize = io.DEFAULT_BUFFER_SIZE
        return real, [real.fileno(), real.seekable(), real.isatty(), blksize]

    def recorded_open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None,
                      closefd=True, opener=None):
        if guard.busy:
            return original(file, mode, buffering, encoding, errors, newline, closefd, opener)
        if not isinstance(file, int):
            file = os.fspath(file)
        if not isinstance(file, (str, bytes, int)):
            raise TypeError(f"invalid file: {file!r}")
        if not isinstance(buffering, int):
            raise TypeError(f"'{type(buffering).__name__}' object cannot be interpreted as an integer")
        raw_mode, binary = _check_mode(mode, encoding, errors, newline, buffering)
        real, facts = record(events.open, tape, lambda: open_real(file, raw_mode, closefd, opener),
                             (file, mode), lambda opened: opened[1])
        _fd, seekable, isatty, blksize = facts
        raw = RecordedFile(real, events, seekable, isatty)
        try:
            return _layer(raw, mode, raw_mode, binary, buffering, blksize, encoding, errors, newline)
        except BaseException:
            raw.close()
            raise

    return non_binding(copy_identity(recorded_open, original))
