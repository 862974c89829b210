"""Data passed out of the program: writes to fds 1 and 2 keep their bytes.

``sys.stdout`` and ``sys.stderr`` are rebuilt over a raw layer that records (or, in
replay, checks) each write, so ``print`` costs one event per flushed buffer. The
rebuilt streams are configured from the recording (encoding, buffering), so a replay
writes in the same chunks whatever its own stdout is. ``os.write`` keeps the bytes for
fds 1 and 2, and only length and CRC for other files: enough for replay to notice
different data without storing every file twice.

In replay, the bytes written to fds 1/2 go to ``player.output(fd, data)``, which the
worker forwards to its own stdout/stderr (`replay`) or drops (`verify`).
"""
from __future__ import annotations

import io
import sys

from retrace_core.boundary import fingerprints
from retrace_core.boundary.files import C_FILEIO
from retrace_core.boundary.fingerprints import without_addresses
from retrace_core.boundary.guard import guard
from retrace_core.boundary.wrappers import Headers, copy_identity, non_binding

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True

STDOUT, STDERR = 1, 2

# The streams Python created at startup. They own fds 1 and 2 (closefd=True), so they
# must outlive the replacements or their collection would close the program's output.
_original_streams: list = []


def written(fd: int, data, count) -> tuple:
    """What the tape keeps of a write: its bytes for fds 1/2, else length and CRC."""
    if fd == STDOUT or fd == STDERR:
        return (fd, bytes(data[:count]) if isinstance(count, int) else bytes(data))
    return (fd, fingerprints.fingerprint(memoryview(data).cast("B")))


def check_written(player, function: str, fd: int, data) -> object:
    """Replay a write: the recorded bytes (or CRC) must be what the program writes now."""
    raised, arguments, value = player.take(function)
    if fd == STDOUT or fd == STDERR:
        recorded = arguments[-1]
        now = bytes(data[:len(recorded)])
        if now != recorded or (not raised and value != len(recorded)):
            if len(now) == len(recorded) and value == len(recorded) and \
                    without_addresses(now) == without_addresses(recorded):
                player.address_differences += 1  # `<object at 0x7f...>`: a new process, new addresses
            else:
                player.diverge_output(recorded, bytes(data))
        player.output(fd, now)
    else:
        verdict = fingerprints.compare(arguments[1], memoryview(data).cast("B")) if arguments[0] == fd \
            else fingerprints.DIFFERENT
        if verdict == fingerprints.ADDRESSES_ONLY:
            player.address_differences += 1
        elif verdict == fingerprints.DIFFERENT:
            player.diverge_output(repr(arguments).encode(), repr(written(fd, data, None)).encode())
    return player.result(raised, value)


class OsWrite:
    """``os.write``: the bytes written to fds 1 and 2, length and CRC for any other fd."""

    @staticmethod
    def record(entry, original, tape):
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

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name

        def replayed_write(fd, data):
            if guard.busy:
                return original(fd, data)
            return check_written(player, name, fd, data)

        return non_binding(copy_identity(replayed_write, original))


class RecordedStandardStream(C_FILEIO):
    """fd 1 or 2 while recording: each write and each isatty() is an event."""

    def __init__(self, fd: int, tape) -> None:
        super().__init__(fd, "wb", closefd=False)
        name = "stdout" if fd == STDOUT else "stderr"
        self._tape = tape
        self._write_headers = Headers(tape, f"sys.{name}.write", True)
        self._isatty_headers = Headers(tape, f"sys.{name}.isatty", False)

    def write(self, data):
        if guard.busy:
            return C_FILEIO.write(self, data)
        guard.busy = True
        try:
            count = C_FILEIO.write(self, data)
        except BaseException as exc:
            guard.busy = False
            self._tape.raised(self._write_headers.raised, (bytes(data),), exc)
            raise
        guard.busy = False
        kept = bytes(data[:count]) if count is not None else b""
        self._tape.returned_with_arguments(self._write_headers.returned, (kept,), count)
        return count

    def isatty(self) -> bool:
        return recorded_isatty(self, self._tape, self._isatty_headers)


def recorded_isatty(stream: C_FILEIO, tape, headers) -> bool:
    """``isatty()`` of a standard stream, as an event (pytest colours its output by it)."""
    if guard.busy:
        return C_FILEIO.isatty(stream)
    guard.busy = True
    result = C_FILEIO.isatty(stream)
    guard.busy = False
    tape.returned(headers.returned, result)
    return result


class ReplayedStandardStream(io.RawIOBase):
    """fd 1 or 2 in replay: writes are checked against the tape and passed on."""

    def __init__(self, fd: int, player) -> None:
        super().__init__()
        self._fd = fd
        self._player = player
        name = "stdout" if fd == STDOUT else "stderr"
        self.name = fd
        self.mode = "wb"
        self._write_function = f"sys.{name}.write"
        self._isatty_function = f"sys.{name}.isatty"

    def fileno(self) -> int:
        return self._fd

    def writable(self) -> bool:
        return True

    def write(self, data):
        return check_written(self._player, self._write_function, self._fd, data)

    def isatty(self) -> bool:
        return self._player.answer(self._isatty_function, None)


def stream_settings(stream) -> dict | None:
    """How Python built a standard stream, stored in the process header for replay."""
    if stream is None or not hasattr(stream, "buffer"):
        return None
    return {"encoding": stream.encoding, "errors": stream.errors, "line_buffering": stream.line_buffering,
            "write_through": stream.write_through,
            "buffered": isinstance(stream.buffer, (io.BufferedWriter, io.BufferedReader))}


def _rebuild(raw, settings: dict):
    binary = io.BufferedWriter(raw) if settings["buffered"] else raw
    return io.TextIOWrapper(binary, encoding=settings["encoding"], errors=settings["errors"], newline="\n",
                            line_buffering=settings["line_buffering"], write_through=settings["write_through"])


def _replace(entry, original, replacement):
    _original_streams.append(original)
    dunder = f"__{entry.name}__"
    if getattr(sys, dunder, None) is original:
        setattr(sys, dunder, replacement)
    return replacement


def _fd_of(entry) -> int:
    return STDOUT if entry.name == "stdout" else STDERR


class StandardStream:
    """``sys.stdout`` / ``sys.stderr``: a recording (or checking) stream in their place."""

    @staticmethod
    def record(entry, original, tape):
        fd = _fd_of(entry)
        settings = stream_settings(original)
        try:
            if settings is None or original.fileno() != fd:
                return original
        except (OSError, ValueError, io.UnsupportedOperation):
            return original
        original.flush()
        return _replace(entry, original, _rebuild(RecordedStandardStream(fd, tape), settings))

    @staticmethod
    def replay(entry, original, player):
        fd = _fd_of(entry)
        settings = player.header.get("stdio", {}).get(str(fd))
        if settings is None:
            return original
        return _replace(entry, original, _rebuild(ReplayedStandardStream(fd, player), settings))
