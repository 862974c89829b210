"""Reading one process's tape back into events and control records."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import lz4.frame
import msgpack

from retrace_core.tape import codec, format
from retrace_core.tape.errors import RecordingError
from retrace_core.tape.frames import LZ4_MAGIC, decompress_frames


@dataclass(slots=True)
class Event:
    """One boundary call as recorded. ``number`` counts from 1 within the tape."""

    number: int
    thread: int
    function: str
    raised: bool
    arguments: object
    value: object  # the result, or [module, qualname, args, extra] when raised

    def written_output(self) -> tuple[int, bytes] | None:
        """(fd, bytes) when this event is the program writing to its stdout (1) or stderr
        (2), else None: the one rule for "is this event output?"."""
        function, arguments = self.function, self.arguments
        if not isinstance(arguments, (list, tuple)) or not arguments:
            return None
        if function in ("sys.stdout.write", "sys.stderr.write"):
            return (1 if function == "sys.stdout.write" else 2), arguments[0]
        if function == "os.write" and len(arguments) > 1 and arguments[0] in (1, 2):
            return arguments[0], arguments[1]
        return None


@dataclass
class Tape:
    """Everything one process wrote: its header, events, markers and end."""

    name: str
    process: dict = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    markers: list[list] = field(default_factory=list)
    exit: dict | None = None
    fault: str | None = None
    truncated: bool = False

    @property
    def complete(self) -> bool:
        return self.exit is not None and self.fault is None and not self.truncated


def read_tape(data: bytes, name: str) -> Tape:
    """Parse a whole tape. Raises RecordingError when it is not a readable tape."""
    stream, truncated = decompress_frames(data, name)
    tape = Tape(name=name, truncated=truncated)
    functions: dict[int, tuple[str, int]] = {}
    thread = 0
    objects = _iter_objects(stream, name)
    for item in objects:
        if type(item) is int:
            fid, status = item >> format.STATUS_BITS, item & format.STATUS_MASK
            definition = functions.get(fid)
            if definition is None:
                raise RecordingError(f"{name}: corrupt tape (event of undefined function {fid})")
            function, flags = definition
            try:
                arguments = next(objects) if flags & format.HAS_ARGS else None
                value = next(objects)
            except StopIteration:
                tape.truncated = True
                break
            if status == format.RAISED and not _exception_shaped(value):
                raise RecordingError(f"{name}: corrupt tape (event {len(tape.events) + 1} raised no exception)")
            tape.events.append(Event(len(tape.events) + 1, thread, function,
                                     status == format.RAISED, arguments, value))
        elif isinstance(item, list) and item and type(item[0]) is int and _well_formed(item):
            tag = item[0]
            if tag == format.DEFINE:
                functions[item[1]] = (item[2], item[3])
            elif tag == format.THREAD:
                thread = item[1]
            elif tag == format.PROCESS:
                tape.process = item[1]
            elif tag == format.MARKER:
                tape.markers.append([len(tape.events), item[1], item[2]])
            elif tag == format.EXIT:
                tape.exit = item[1]
            elif tag == format.FAULT:
                tape.fault = item[1]
        else:
            raise RecordingError(f"{name}: corrupt tape (unexpected {type(item).__name__} record)")
    return tape


# The shape of each control record after its tag: what a reader relies on (a tape is
# untrusted input; a crafted record is a corrupt tape, not a traceback).
_SHAPES = {format.DEFINE: (int, str, int), format.THREAD: (int,), format.PROCESS: (dict,),
           format.MARKER: (str, dict), format.EXIT: (dict,), format.FAULT: (str,), format.RAN_ON: ()}


def _well_formed(record: list) -> bool:
    if record[0] == format.COLLECT:
        return format.collect_shaped(record)
    shape = _SHAPES.get(record[0])
    if shape is None:
        return True  # a record of a later version: passed over
    if len(record) != len(shape) + 1 or not all(type(v) is t for v, t in zip(record[1:], shape)):
        return False
    return record[0] != format.PROCESS or valid_header(record[1])


def _exception_shaped(value: object) -> bool:
    """[module, qualname, args, extra], as exceptions.describe_exception writes it."""
    return (type(value) is list and len(value) == 4 and type(value[0]) is str and type(value[1]) is str
            and type(value[2]) is list and type(value[3]) is dict)


def valid_header(header: dict) -> bool:
    """Does this PROCESS header have the fields readers use, of the right types?"""
    pid, parent, env = header.get("pid"), header.get("parent"), header.get("env")
    return (type(pid) is int and (parent is None or type(parent) is int)
            and all(_strings(header.get(key)) for key in ("argv", "program", "interpreter_options"))
            and all(header.get(key) is None or type(header[key]) is str
                    for key in ("started", "cwd", "executable", "hash_seed", "python_minor"))
            and (env is None or type(env) is dict and _strings(list(env.items()), pairs=True)))


def _strings(value: object, pairs: bool = False) -> bool:
    if value is None:
        return True
    if type(value) is not list:
        return False
    if pairs:
        return all(type(k) is str and type(v) is str for k, v in value)
    return all(type(item) is str for item in value)


def _iter_objects(stream: bytes, name: str) -> Iterator[object]:
    unpacker = codec.new_unpacker()
    unpacker.feed(stream)
    try:
        yield from unpacker
    except (msgpack.UnpackException, ValueError, TypeError) as exc:
        raise RecordingError(f"{name}: corrupt tape ({exc})") from None


def read_header(data: bytes, name: str) -> dict:
    """Only the PROCESS record at the start of a tape (cheap: first frame)."""
    if data[:4] != LZ4_MAGIC:
        raise RecordingError(f"{name}: not a retrace tape")
    decompressor = lz4.frame.LZ4FrameDecompressor()
    try:
        first = decompressor.decompress(data)
    except RuntimeError:
        raise RecordingError(f"{name}: corrupt tape") from None
    for item in _iter_objects(first, name):
        if isinstance(item, list) and item and item[0] == format.PROCESS:
            if len(item) != 2 or not isinstance(item[1], dict) or not valid_header(item[1]):
                raise RecordingError(f"{name}: corrupt tape (bad process header)")
            return item[1]
        break
    raise RecordingError(f"{name}: tape has no process header")
