"""``sys.stdin``: what the program read from fd 0 is on the tape.

Rebuilt like ``sys.stdout`` (see output.py), over a raw layer whose reads are events,
so ``input()`` replays without a terminal and a piped input replays without the pipe.
"""
from __future__ import annotations

import io

from retrace_core.boundary.files import C_FILEIO
from retrace_core.boundary.output import recorded_isatty, stream_settings
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True

STDIN = 0
READ, ISATTY = "sys.stdin.read", "sys.stdin.isatty"
_original_streams: list = []  # they own fd 0 (closefd=True): keep them alive


class RecordedStandardInput(C_FILEIO):
    """The raw layer under a recorded ``sys.stdin``: fd 0 itself, each read and isatty an event."""

    def __init__(self, tape) -> None:
        super().__init__(STDIN, "rb", closefd=False)
        self._tape = tape
        self._read = Headers(tape, READ, True)
        self._isatty = Headers(tape, ISATTY, False)

    def readinto(self, buffer):
        view = memoryview(buffer).cast("B")
        return record(self._read, self._tape, lambda: C_FILEIO.readinto(self, view), (view.nbytes,),
                      lambda count: bytes(view[:count]) if count else count)

    def readall(self):
        return record(self._read, self._tape, lambda: C_FILEIO.readall(self), (-1,))

    def isatty(self) -> bool:
        return recorded_isatty(self, self._tape, self._isatty)


class ReplayedStandardInput(io.RawIOBase):
    """The raw layer under a replayed ``sys.stdin``: reads answered from the tape, fd 0 untouched."""

    def __init__(self, player) -> None:
        super().__init__()
        self._player = player
        self.mode = "rb"

    def fileno(self) -> int:
        return STDIN

    def readable(self) -> bool:
        return True

    def readinto(self, buffer):
        view = memoryview(buffer).cast("B")
        data = self._player.answer(READ, (view.nbytes,))
        if not data:
            return data
        view[: len(data)] = data
        return len(data)

    def readall(self):
        return self._player.answer(READ, (-1,))

    def isatty(self) -> bool:
        return self._player.answer(ISATTY, None)


def _rebuild(raw, original, settings: dict):
    raw.name = "<stdin>"
    stream = io.TextIOWrapper(io.BufferedReader(raw), encoding=settings["encoding"], errors=settings["errors"],
                              newline="\n", line_buffering=settings["line_buffering"])
    _original_streams.append(original)
    import sys

    if sys.__stdin__ is original:
        sys.__stdin__ = stream
    return stream


class StandardInput:
    """``sys.stdin`` rebuilt over the recorded or replayed raw layer, with the recorded settings."""

    @staticmethod
    def record(entry, original, tape):
        settings = stream_settings(original)
        try:
            if settings is None or original.fileno() != STDIN:
                return original
        except (OSError, ValueError, io.UnsupportedOperation):
            return original
        return _rebuild(RecordedStandardInput(tape), original, settings)

    @staticmethod
    def replay(entry, original, player):
        settings = player.header.get("stdio", {}).get(str(STDIN))
        if settings is None:
            return original
        return _rebuild(ReplayedStandardInput(player), original, settings)
