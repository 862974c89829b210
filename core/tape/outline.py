"""What the process tree needs of a tape, read without decoding its events.

The root writes ``index.json`` when it exits, and needs of each child's tape only its
header, how it ended, the calls that started other processes and its last call (an exec
ends a tape). Decoding whole tapes into events for that held every tape of the run in
memory at once: a typer suite that ran 426 child Pythons had the recorded program, at its
exit, grow past 5 GB decoding 131 MB of tapes. Here each event's arguments and result are
skipped unread (msgpack's ``skip``) unless its call is one of those, and one tape at a time
is held.
"""
from __future__ import annotations

import msgpack

from retrace_core.tape import codec, format
from retrace_core.tape.errors import RecordingError
from retrace_core.tape.frames import decompress_frames
from retrace_core.tape.reader import _well_formed  # the shapes every reader relies on

# Calls whose result is a child's pid: the event at which a child was started.
STARTING_CALLS = frozenset(("os.fork", "_posixsubprocess.fork_exec", "os.posix_spawn", "os.posix_spawnp"))
# Calls that make the process another program: a tape that ends at one did not fail it.
EXEC_CALLS = frozenset(("os.execv", "os.execve"))
_READ = STARTING_CALLS | EXEC_CALLS


class Outline:
    """A tape's header and ending, the pids it started (pid -> event number), and its last
    call: (function, raised, arguments), the arguments only for an exec."""

    __slots__ = ("process", "exit", "fault", "truncated", "started", "last_call", "events")

    def __init__(self) -> None:
        self.process: dict = {}
        self.exit: dict | None = None
        self.fault: str | None = None
        self.truncated = False
        self.started: dict[int, int] = {}
        self.last_call: tuple[str, bool, object] | None = None
        self.events = 0

    @property
    def complete(self) -> bool:
        return self.exit is not None and self.fault is None and not self.truncated

    @property
    def became(self) -> list[str] | None:
        """The command the process became by an exec that did not fail (its tape ends
        there, with no exit record: the recorder went with the process image), or None."""
        if self.complete or self.last_call is None:
            return None
        function, raised, arguments = self.last_call
        if function not in EXEC_CALLS or raised or not isinstance(arguments, (list, tuple)) or not arguments:
            return None
        path, argv = arguments[0], (list(arguments) + [None])[1]
        command = [path, *argv[1:]] if isinstance(argv, list) else [path]  # the path, not argv[0]
        return [str(part) for part in command]


def outline_tape(data: bytes, name: str) -> Outline:
    """The outline of one tape. Raises RecordingError when it is not a readable tape."""
    stream, truncated = decompress_frames(data, name)
    outline = Outline()
    outline.truncated = truncated
    unpacker = codec.new_unpacker()
    unpacker.feed(stream)
    functions: dict[int, tuple[str, int]] = {}
    try:
        for item in unpacker:
            if type(item) is int:
                if not _event(outline, item, functions, unpacker, name):
                    break
            elif isinstance(item, list) and item and type(item[0]) is int and _well_formed(item):
                _control(outline, item, functions)
            else:
                raise RecordingError(f"{name}: corrupt tape (unexpected {type(item).__name__} record)")
    except (msgpack.UnpackException, ValueError, TypeError) as exc:
        raise RecordingError(f"{name}: corrupt tape ({exc})") from None
    return outline


def _event(outline: Outline, item: int, functions: dict, unpacker, name: str) -> bool:
    """Read or skip one event's arguments and result; False when the tape ends inside it."""
    definition = functions.get(item >> format.STATUS_BITS)
    if definition is None:
        raise RecordingError(f"{name}: corrupt tape (event of undefined function {item >> format.STATUS_BITS})")
    function, flags = definition
    raised = item & format.STATUS_MASK == format.RAISED
    arguments = None
    try:
        if function in _READ:
            arguments = unpacker.unpack() if flags & format.HAS_ARGS else None
            value = unpacker.unpack()
        else:
            if flags & format.HAS_ARGS:
                unpacker.skip()
            unpacker.skip()
            value = None
    except msgpack.OutOfData:
        outline.truncated = True
        return False
    outline.events += 1
    if function in STARTING_CALLS and not raised and type(value) is int:
        outline.started.setdefault(value, outline.events)
    outline.last_call = (function, raised, arguments if function in EXEC_CALLS else None)
    return True


def _control(outline: Outline, record: list, functions: dict) -> None:
    tag = record[0]
    if tag == format.DEFINE:
        functions[record[1]] = (record[2], record[3])
    elif tag == format.PROCESS:
        outline.process = record[1]
    elif tag == format.EXIT:
        outline.exit = record[1]
    elif tag == format.FAULT:
        outline.fault = record[1]
