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
import posix
import warnings

from retrace_core.boundary import fingerprints, written_code
from retrace_core.boundary.fd_numbers import place_on
from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, copy_identity, non_binding

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True

_VALID_MODE_CHARACTERS = frozenset("axrwb+t")

# The interpreter's own raw file class, taken before the table replaces ``io.FileIO``
# (raw_files.py): our own code that needs a real raw file uses this one.
C_FILEIO = io.FileIO

# posix's functions are never patched (only os's attributes are): our own fd work uses them.
_real_open, _real_close = posix.open, posix.close


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


class _BoundaryFile(io.RawIOBase):
    """What recorded and replayed files share: the facts fixed when they were opened."""

    def __init__(self, name, raw_mode: str, closefd: bool, fd: int, seekable: bool, isatty: bool) -> None:
        super().__init__()
        self.name = name
        self.mode = _file_io_mode(raw_mode)
        self._closefd = closefd
        self._fd = fd
        self._seekable = seekable
        self._isatty = isatty

    def __repr__(self) -> str:
        # FileIO's, recorded and replayed alike: programs print it (pytest's captured
        # stdout names its buffer in its own repr, and a test printed sys.stdout).
        return file_io_repr(self)

    @property
    def closefd(self) -> bool:
        return self._closefd

    def fileno(self) -> int:
        return self._fd

    def readable(self) -> bool:
        return "r" in self.mode or "+" in self.mode

    def writable(self) -> bool:
        return "r" not in self.mode or "+" in self.mode

    def seekable(self) -> bool:
        return self._seekable

    def isatty(self) -> bool:
        return self._isatty


def file_io_repr(file) -> str:
    """The C class's ``repr`` of a raw file of ours (3.13 would name our class in it)."""
    if file.closed:
        return "<_io.FileIO [closed]>"
    shown = f"name={file.__dict__['name']!r}" if "name" in file.__dict__ else f"fd={file.fileno()}"
    return f"<_io.FileIO {shown} mode={file.mode!r} closefd={file.closefd}>"


def _file_io_mode(raw_mode: str) -> str:
    """FileIO's ``mode`` attribute for a raw open mode."""
    if "x" in raw_mode:
        return "xb+" if "+" in raw_mode else "xb"
    if "a" in raw_mode:
        return "ab+" if "+" in raw_mode else "ab"
    if "w" in raw_mode:
        return "rb+" if "+" in raw_mode else "wb"
    return "rb+" if "+" in raw_mode else "rb"


class RecordedFile(_BoundaryFile):
    """The raw layer of a file opened by the program, while recording."""

    def __init__(self, real: C_FILEIO, raw_mode: str, events: FileEvents, seekable: bool, isatty: bool) -> None:
        super().__init__(real.name, raw_mode, real.closefd, real.fileno(), seekable, isatty)
        self._real = real
        self._events = events

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
                      (self._fd, fingerprints.fingerprint(view)))

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


class ReplayedFile(_BoundaryFile):
    """The raw layer of a file opened by the program, in replay: served from the tape.

    Its fd number is the recorded one, and it is made real (``/dev/null`` duplicated onto
    it) when that number is free: C code that reads the fd behind the file object (the
    interpreter's own traceback printer does) then finds an open, empty file instead of
    a closed or foreign fd.
    """

    def __init__(self, player, name, raw_mode: str, closefd: bool, facts: list) -> None:
        fd, seekable, isatty, _blksize = facts
        super().__init__(name, raw_mode, closefd, fd, seekable, isatty)
        self._player = player
        self._mirrored = closefd and mirror_fd(fd)

    def readinto(self, buffer) -> int | None:
        view = memoryview(buffer).cast("B")
        data = self._player.answer("file.read", (self._fd, view.nbytes))
        if not data:
            return data
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self._player.answer("file.read", (self._fd, -1))

    def write(self, data) -> int | None:
        view = memoryview(data).cast("B")
        raised, arguments, value = self._player.take("file.write")
        verdict = fingerprints.compare(arguments[1], view)
        if verdict == fingerprints.ADDRESSES_ONLY:
            self._player.address_differences += 1
        elif verdict == fingerprints.DIFFERENT:
            written = fingerprints.fingerprint(view)
            self._player.diverge_output(f"{arguments[1][0]} bytes, crc {arguments[1][1]}".encode(),
                                        f"{written[0]} bytes, crc {written[1]}".encode())
        return self._player.result(raised, value)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._player.answer("file.seek", (self._fd, offset, whence))

    def tell(self) -> int:
        return self._player.answer("file.tell", (self._fd,))

    def truncate(self, size: int | None = None) -> int:
        return self._player.answer("file.truncate", (self._fd, size))

    def close(self) -> None:
        if self.closed:
            return
        # The mirrored fd is let go before the turn passes (see sockets.Close).
        try:
            raised, _arguments, value = self._player.take("file.close", (self._fd,))
        finally:
            if self._mirrored:
                self._mirrored = False
                _real_close(self._fd)
            super().close()
        self._player.pass_turn()
        self._player.result(raised, value)


# Named as what they stand in for, recorded and replayed: type(file) is FileIO to the program.
for _kind in (RecordedFile, ReplayedFile):
    _kind.__module__, _kind.__name__, _kind.__qualname__ = "_io", "FileIO", "FileIO"
del _kind


def _turn_taking(base: type) -> type:
    """``base`` (a C buffered class) whose methods first wait for this thread's turn, in
    a replay with threads. The C class holds a lock of its own while it calls the raw
    file: a thread that waited for its turn in there would block the thread whose turn
    it is, when both use one file (execnet closes a pipe from two threads)."""
    namespace = {"__module__": base.__module__, "__qualname__": base.__qualname__, "__slots__": (),
                 "__repr__": _c_repr(f"_io.{base.__name__}")}
    for name in ("read", "read1", "readinto", "readinto1", "readline", "readlines", "peek", "write",
                 "writelines", "flush", "close", "seek", "tell", "truncate", "__next__"):
        if hasattr(base, name):
            namespace[name] = _after_turn(getattr(base, name))
    return type(base.__name__, (base,), namespace)


def _c_repr(type_name: str):
    """The C class's repr, which names ``type(self)``: the recorded program printed that."""

    def __repr__(self) -> str:
        try:
            name = self.name
        except (AttributeError, ValueError):
            return f"<{type_name}>"
        return f"<{type_name} name={name!r}>"

    return __repr__


def _after_turn(method):
    def waits_for_turn(self, *args, **kwargs):
        raw = self.raw
        if isinstance(raw, ReplayedFile):
            raw._player.wait_for_turn()
        return method(self, *args, **kwargs)

    waits_for_turn.__name__ = waits_for_turn.__qualname__ = method.__name__
    return waits_for_turn


TurnTakingBufferedReader = _turn_taking(io.BufferedReader)
TurnTakingBufferedWriter = _turn_taking(io.BufferedWriter)
TurnTakingBufferedRandom = _turn_taking(io.BufferedRandom)


def mirror_fd(fd: int) -> bool:
    """Make ``fd`` an open ``/dev/null`` if it is free (see fd_numbers); True when made."""
    if not isinstance(fd, int) or fd < 3:
        return False
    null = _real_open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    if place_on(null, fd) == fd:
        return True
    _real_close(null)
    return False


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
    replayed = isinstance(raw, ReplayedFile)
    if "+" in raw_mode:
        buffer = (TurnTakingBufferedRandom if replayed else io.BufferedRandom)(raw, buffering)
    elif "r" in raw_mode:
        buffer = (TurnTakingBufferedReader if replayed else io.BufferedReader)(raw, buffering)
    else:
        buffer = (TurnTakingBufferedWriter if replayed else io.BufferedWriter)(raw, buffering)
    if binary:
        return buffer
    text = io.TextIOWrapper(buffer, io.text_encoding(encoding), errors, newline, line_buffering)
    text.mode = mode
    return text


def _checked(file, mode, buffering, encoding, errors, newline):
    """io.open's own checks, before anything touches the world (or the tape)."""
    if not isinstance(file, int):
        file = os.fspath(file)
    if not isinstance(file, (str, bytes, int)):
        raise TypeError(f"invalid file: {file!r}")
    if not isinstance(buffering, int):
        raise TypeError(f"'{type(buffering).__name__}' object cannot be interpreted as an integer")
    raw_mode, binary = _check_mode(mode, encoding, errors, newline, buffering)
    return file, raw_mode, binary


def _open_flags(raw_mode: str) -> int:
    """The flags FileIO passes to an ``opener`` for a raw mode."""
    if "+" in raw_mode:
        flags = os.O_RDWR
    elif "r" in raw_mode:
        flags = os.O_RDONLY
    else:
        flags = os.O_WRONLY
    if "w" in raw_mode:
        flags |= os.O_CREAT | os.O_TRUNC
    elif "a" in raw_mode:
        flags |= os.O_CREAT | os.O_APPEND
    elif "x" in raw_mode:
        flags |= os.O_CREAT | os.O_EXCL
    return flags | getattr(os, "O_CLOEXEC", 0)


def _opened_by(opener, file, raw_mode: str) -> int:
    """Run the program's ``opener`` as the program's own code (its calls are boundary
    calls of their own, recorded or replayed); the file then opens on its fd."""
    fd = opener(file, _open_flags(raw_mode))
    if not isinstance(fd, int):
        raise TypeError(f"expected integer from opener, not {type(fd).__name__}")
    if fd < 0:
        raise ValueError(f"opener returned {fd}")
    return fd


class Open:
    """``open()`` / ``io.open``. An ``opener`` runs outside the recorded call, because
    it is the program's code: it may make boundary calls and change the program's state
    (``tempfile.NamedTemporaryFile`` learns its file name in one)."""

    @staticmethod
    def record(entry, original, tape):
        events = FileEvents(tape)

        def open_real(file, raw_mode, closefd, opener):
            real = C_FILEIO(file, raw_mode, closefd, opener=opener)
            try:
                blksize = os.fstat(real.fileno()).st_blksize
            except OSError:
                blksize = io.DEFAULT_BUFFER_SIZE
            return real, [real.fileno(), real.seekable(), real.isatty(), blksize]

        def recorded_open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None,
                          closefd=True, opener=None):
            if guard.busy:
                return original(file, mode, buffering, encoding, errors, newline, closefd, opener)
            file, raw_mode, binary = _checked(file, mode, buffering, encoding, errors, newline)
            target = _opened_by(opener, file, raw_mode) if opener is not None else file
            real, facts = record(events.open, tape, lambda: open_real(target, raw_mode, closefd, None),
                                 (file, mode), lambda opened: opened[1])
            raw = RecordedFile(real, raw_mode, events, facts[1], facts[2])
            raw.name = file
            written_code.note_opened(file, raw_mode)
            return _layered(raw, mode, raw_mode, binary, buffering, facts[3], encoding, errors, newline)

        return non_binding(copy_identity(recorded_open, original))

    @staticmethod
    def replay(entry, original, player):
        def replayed_open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None,
                          closefd=True, opener=None):
            if guard.busy:
                return original(file, mode, buffering, encoding, errors, newline, closefd, opener)
            file, raw_mode, binary = _checked(file, mode, buffering, encoding, errors, newline)
            if opener is not None:
                _opened_by(opener, file, raw_mode)
            facts = player.answer("io.open", (file, mode))
            raw = ReplayedFile(player, file, raw_mode, closefd, facts)
            written_code.note_opened(file, raw_mode)
            return _layered(raw, mode, raw_mode, binary, buffering, facts[3], encoding, errors, newline)

        return non_binding(copy_identity(replayed_open, original))


def _layered(raw, mode, raw_mode, binary, buffering, blksize, encoding, errors, newline):
    try:
        return _layer(raw, mode, raw_mode, binary, buffering, blksize, encoding, errors, newline)
    except BaseException:
        raw.close()
        raise
