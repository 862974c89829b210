"""``io.FileIO`` made by the program itself, on a path or on a descriptor.

``open()`` is recorded in files.py, but programs also build the raw file object
themselves: tornado's ``PipeIOStream`` wraps the read end of an ``os.pipe()`` in
``io.FileIO(fd, "r+")``. Run for real in a replay, that constructor fstat's a descriptor
that only the recording had (``os.pipe`` is answered from the tape), and raised EBADF
where the recording went on (tornado's suite diverged at event 109,828: the failed
future's callbacks ran before the loop's own).

So ``io.FileIO`` is a subclass whose opening, reads, writes, seeks and closing are
events, the same events as a file from ``open()``. Replaying, its C part stands on a
private ``/dev/null`` (so ``closed``, ``mode`` and the buffered layers work as C expects)
and every operation is answered from the tape; ``fileno()`` and ``name`` are the
recorded ones. ``isinstance`` and ``issubclass`` answer for the C class, so the raw files
of ``sys.stdout`` and of ``open()`` stay ``io.FileIO`` instances.
"""
from __future__ import annotations

import os
import posix

from retrace_core.boundary import fingerprints
from retrace_core.boundary.files import FileEvents, ReplayedFile, _BoundaryFile, _opened_by, file_io_repr
from retrace_core.boundary.guard import guard
from retrace_core.boundary.output import ReplayedStandardStream
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.standard_input import ReplayedStandardInput
from retrace_core.boundary.wrappers import Headers, standing_for

__tracebackhide__ = True

_real_open = posix.open
# Raw files that are io.FileIO in a run without us: to the program, they still are.
_ALSO_FILE_IO = (_BoundaryFile, ReplayedStandardStream, ReplayedStandardInput)


def _raw_mode(mode) -> str:
    return mode.replace("b", "") if isinstance(mode, str) else "r"


def _shown(file) -> object:
    """What the tape keeps of the file argument: a path-like as its path."""
    if isinstance(file, (int, str, bytes)):
        return file
    try:
        return os.fspath(file)
    except TypeError:
        return repr(file)


def _answered_by_raw(original: type, name: str):
    """A replayed ``FileIO`` method: answered by its ``ReplayedFile`` (all of ``FileIO``'s
    methods take positional arguments only)."""
    unanswered = getattr(original, name)

    def method(self, *args):
        raw = self.__dict__.get("_retrace_raw")
        return unanswered(self, *args) if raw is None else getattr(raw, name)(*args)

    method.__name__ = method.__qualname__ = name
    return method


def _read_by_readinto(readinto, size: int) -> bytes | None:
    buffer = bytearray(size)
    count = readinto(buffer)
    return None if count is None else bytes(buffer[:count])


class ProgramFileIO:
    """``io.FileIO``, the class the program makes its raw files with."""

    @staticmethod
    def record(entry, original, tape):
        events, opened = FileEvents(tape), Headers(tape, "io.FileIO", True)

        def __init__(self, file, mode="r", closefd=True, opener=None):
            if guard.busy:
                original.__init__(self, file, mode, closefd, opener)
                return
            target = _opened_by(opener, file, _raw_mode(mode)) if opener is not None else file

            def open_real():
                original.__init__(self, target, mode, closefd)
                return [original.fileno(self), original.seekable(self), original.isatty(self)]

            record(opened, tape, open_real, (_shown(file), mode))
            if opener is not None:
                self.name = file
            self.__dict__["_retrace_fd"] = original.fileno(self)

        def readinto(self, buffer):
            fd = self.__dict__.get("_retrace_fd")
            if fd is None:
                return original.readinto(self, buffer)
            view = memoryview(buffer).cast("B")
            return record(events.read, tape, lambda: original.readinto(self, view), (fd, view.nbytes),
                          lambda count: bytes(view[:count]) if count else count)

        def read(self, size=-1):
            if self.__dict__.get("_retrace_fd") is None:
                return original.read(self, size)
            if size is None or size < 0:
                return self.readall()
            return _read_by_readinto(self.readinto, size)

        def readall(self):
            fd = self.__dict__.get("_retrace_fd")
            if fd is None:
                return original.readall(self)
            return record(events.read, tape, lambda: original.readall(self), (fd, -1))

        def write(self, data):
            fd = self.__dict__.get("_retrace_fd")
            if fd is None:
                return original.write(self, data)
            view = memoryview(data).cast("B")
            return record(events.write, tape, lambda: original.write(self, view),
                          (fd, fingerprints.fingerprint(view)))

        def seek(self, offset, whence=0):
            fd = self.__dict__.get("_retrace_fd")
            if fd is None:
                return original.seek(self, offset, whence)
            return record(events.seek, tape, lambda: original.seek(self, offset, whence), (fd, offset, whence))

        def tell(self):
            fd = self.__dict__.get("_retrace_fd")
            if fd is None:
                return original.tell(self)
            return record(events.tell, tape, lambda: original.tell(self), (fd,))

        def truncate(self, size=None):
            fd = self.__dict__.get("_retrace_fd")
            if fd is None:
                return original.truncate(self, size)
            return record(events.truncate, tape, lambda: original.truncate(self, size), (fd, size))

        def close(self):
            fd = self.__dict__.get("_retrace_fd")
            if fd is None or self.closed:
                return original.close(self)
            return record(events.close, tape, lambda: original.close(self), (fd,))

        namespace = {function.__name__: function for function in
                     (__init__, readinto, read, readall, write, seek, tell, truncate, close)}
        return standing_for(original, {**namespace, "__repr__": file_io_repr}, _ALSO_FILE_IO)

    @staticmethod
    def replay(entry, original, player):
        def __init__(self, file, mode="r", closefd=True, opener=None):
            if guard.busy:
                original.__init__(self, file, mode, closefd, opener)
                return
            if opener is not None:
                _opened_by(opener, file, _raw_mode(mode))
            fd, seekable, isatty = player.answer("io.FileIO", (_shown(file), mode))
            # The C part on a /dev/null of its own: it keeps ``closed`` and ``mode``.
            original.__init__(self, _real_open(os.devnull, os.O_RDWR | os.O_CLOEXEC), mode, True)
            self.name = file
            self.__dict__["_retrace_raw"] = ReplayedFile(player, file, _raw_mode(mode), closefd,
                                                         [fd, seekable, isatty, 0])

        def closefd(self):
            raw = self.__dict__.get("_retrace_raw")
            return original.closefd.__get__(self) if raw is None else raw.closefd

        def read(self, size=-1, /):
            raw = self.__dict__.get("_retrace_raw")
            if raw is None:
                return original.read(self, size)
            if size is None or size < 0:
                return raw.readall()
            return _read_by_readinto(raw.readinto, size)

        def close(self):
            raw = self.__dict__.get("_retrace_raw")
            if raw is None or self.closed:
                return original.close(self)
            try:
                raw.close()
            finally:
                original.close(self)

        namespace = {name: _answered_by_raw(original, name) for name in
                     ("fileno", "seekable", "isatty", "readinto", "readall", "write", "seek", "tell", "truncate")}
        namespace.update(__init__=__init__, __repr__=file_io_repr, closefd=property(closefd), read=read, close=close)
        return standing_for(original, namespace, _ALSO_FILE_IO)

