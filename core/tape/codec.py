"""Values on the tape: msgpack plus a few extension types.

Results must come back from the tape as the same types the program saw (a tuple stays
a tuple, an ``os.stat_result`` stays one), so the packer runs with ``strict_types`` and
everything msgpack does not know natively goes through :func:`_encode_extension`.
Arguments are only informative (shown, and compared in replay), so their packer turns
unknown objects into an opaque type name instead of failing, and never calls user code.

Decoding reads untrusted input (recordings are shared): it builds only the types of a
fixed table and never resolves or calls anything else a tape names. Every str (lone
surrogates too), bytes, int of any size and float round-trips exactly.
"""
from __future__ import annotations

import datetime as _dt
import sys

import msgpack

from retrace_core.boundary.guard import guard

_new_tuple = tuple.__new__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

TUPLE = 1
STRUCTSEQ = 2
SET = 3
FROZENSET = 4
INT_SUBCLASS = 5
STR_SUBCLASS = 6
DECIMAL_INT = 7  # an int out of msgpack's range, as decimal digits (earlier versions)
DATETIME = 8
TIMEZONE = 9
UUID = 10
OPAQUE = 11
TIMEDELTA = 12
ZONEINFO = 13
DATE = 14
FLOAT_SUBCLASS = 15
BYTES_SUBCLASS = 16
BIG_INT = 17  # an int out of msgpack's range, two's complement little-endian: any size

# Every str goes on the tape, lone surrogates too (os.fsdecode of a non-UTF-8 file name).
_UNICODE_ERRORS = "surrogatepass"
_PLAIN_OF_SUBCLASS = {INT_SUBCLASS: int, STR_SUBCLASS: str, FLOAT_SUBCLASS: float, BYTES_SUBCLASS: bytes}

_INT64_MIN, _UINT64_MAX = -(1 << 63), (1 << 64) - 1


class Opaque:
    """Stands in for an argument whose type the tape does not keep."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.type_name == self.type_name

    def __hash__(self) -> int:
        return hash(self.type_name)

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def _type_name(value: object) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def _encode_extension(value: object) -> msgpack.ExtType:
    return _extension(value, packb)


def _ext(code: int, data: bytes) -> msgpack.ExtType:
    # ExtType's own __new__ checks its arguments in Python, a third of a microsecond per
    # tuple or stat_result packed; ours are right by construction.
    return _new_tuple(msgpack.ExtType, (code, data))


def _extension(value: object, _nested) -> msgpack.ExtType:
    """The extension type for ``value``; containers encode their items with ``_nested``."""
    cls = type(value)
    if cls is tuple:
        return _ext(TUPLE, _nested(list(value)))
    if cls is int:  # only reached when out of msgpack's 64-bit range
        return _ext(BIG_INT, _int_to_bytes(value))
    if isinstance(value, tuple) and hasattr(cls, "n_sequence_fields"):
        _, (visible, hidden) = value.__reduce__()
        return _ext(STRUCTSEQ, _nested([_type_name(value), list(visible), hidden]))
    if cls is set or cls is frozenset:
        return _ext(SET if cls is set else FROZENSET, _nested(list(value)))
    if isinstance(value, _dt.datetime):
        return _ext(DATETIME, _nested([value.__reduce__()[1][0], value.tzinfo]))
    if isinstance(value, _dt.date):
        return _ext(DATE, value.__reduce__()[1][0])
    if cls is _dt.timezone:
        return _ext(TIMEZONE, _nested(list(value.__getinitargs__())))
    if cls is _dt.timedelta:
        return _ext(TIMEDELTA, _nested([value.days, value.seconds, value.microseconds]))
    if cls.__module__ == "uuid" and cls.__name__ == "UUID":
        return _ext(UUID, _nested([value.bytes, value.is_safe.value]))
    if cls.__module__ == "zoneinfo" and cls.__name__ == "ZoneInfo":
        return _ext(ZONEINFO, value.key.encode())
    if isinstance(value, int):
        return _ext(INT_SUBCLASS, _nested([_type_name(value), int(value)]))
    if isinstance(value, str):
        return _ext(STR_SUBCLASS, _nested([_type_name(value), str(value)]))
    if isinstance(value, float):
        return _ext(FLOAT_SUBCLASS, _nested([_type_name(value), float(value)]))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _ext(BYTES_SUBCLASS, _nested([_type_name(value), bytes(value)]))
    raise TypeError(f"retrace cannot store a value of type {_type_name(value)}")


def _encode_argument(value: object) -> object:
    # An argument that is not a plain value runs code of its own here (a path's
    # ``__fspath__``, a subclass's ``__str__``), recorded after the call and replayed before
    # it, where a tracer the program set sees it (coverage then looks its file up): boundary
    # calls made meanwhile are neither events nor answered from the tape.
    if guard.busy:
        return _encode_argument_now(value)
    guard.busy = True
    try:
        return _encode_argument_now(value)
    finally:
        guard.busy = False


def _encode_argument_now(value: object) -> object:
    if type(value) is not tuple and hasattr(value, "__fspath__") and not isinstance(value, (str, bytes)):
        try:
            return type(value).__fspath__(value)
        except Exception:
            pass
    try:
        return _extension(value, pack_arguments)
    except TypeError:
        return _ext(OPAQUE, _type_name(value).encode())


# The only types a tape may name, and so the only constructors decoding ever calls: a
# tape is untrusted input (a crafted one must not make a reader resolve ``os.system``
# or ``socket.gethostbyname`` and call it). Each is a struct sequence, built from a
# tuple, or an enum, whose call looks a member up by value.
_STRUCTSEQ_TYPES = frozenset({
    ("os", "stat_result"), ("os", "statvfs_result"), ("os", "terminal_size"), ("os", "times_result"),
    ("os", "uname_result"), ("os", "sched_param"), ("os", "waitid_result"),
    ("posix", "stat_result"), ("posix", "statvfs_result"), ("posix", "times_result"),
    ("posix", "uname_result"), ("posix", "waitid_result"), ("posix", "sched_param"),
    ("time", "struct_time"), ("resource", "struct_rusage"), ("pwd", "struct_passwd"), ("grp", "struct_group"),
})
_ENUM_TYPES = frozenset({
    ("socket", "AddressFamily"), ("socket", "SocketKind"), ("socket", "MsgFlag"), ("socket", "AddressInfo"),
    ("signal", "Signals"), ("signal", "Handlers"), ("signal", "Sigmasks"),
})
_MAX_NESTING = 64  # extension values inside extension values; a tape is untrusted input


class CorruptValue(ValueError):
    """An extension value that no recorder writes: a corrupt or crafted tape."""


def _resolve(type_name: object, allowed: frozenset[tuple[str, str]]) -> type | None:
    """The allowed type named ``module.qualname``, or None: never any other name."""
    if not isinstance(type_name, str):
        raise CorruptValue("type name is not a string")
    module_name, _, qualname = type_name.rpartition(".")
    if (module_name, qualname) not in allowed:
        return None
    # Importing a module of the fixed table is safe; it is one of os, time, socket...
    module = sys.modules.get(module_name) or __import__(module_name)
    cls = getattr(module, qualname, None)
    return cls if isinstance(cls, type) else None


def _decode_extension(code: int, data: bytes, depth: int = 0) -> object:
    try:
        return _decode(code, data, depth)
    except CorruptValue:
        raise
    except Exception as exc:  # anything a crafted payload provokes: one kind of error
        raise CorruptValue(f"corrupt value of extension type {code} ({type(exc).__name__})") from None


def _nested_unpackb(data: bytes, depth: int) -> object:
    if depth >= _MAX_NESTING:
        raise CorruptValue("values nested too deeply")
    return msgpack.unpackb(data, ext_hook=lambda code, payload: _decode_extension(code, payload, depth + 1),
                           raw=False, strict_map_key=False, unicode_errors=_UNICODE_ERRORS)


def _decode(code: int, data: bytes, depth: int) -> object:
    if code == TUPLE:
        return tuple(_nested_unpackb(data, depth))
    if code == BIG_INT:
        return _int_from_bytes(data)
    if code == DECIMAL_INT:  # written by earlier versions
        return int(data)
    if code == STRUCTSEQ:
        type_name, visible, hidden = _nested_unpackb(data, depth)
        cls = _resolve(type_name, _STRUCTSEQ_TYPES)
        if cls is None or not hasattr(cls, "n_sequence_fields"):
            return tuple(visible)
        return cls((*visible,), hidden if isinstance(hidden, dict) else {})
    if code == SET:
        return set(_nested_unpackb(data, depth))
    if code == FROZENSET:
        return frozenset(_nested_unpackb(data, depth))
    if code == DATETIME:
        state, tzinfo = _nested_unpackb(data, depth)
        return _dt.datetime(state, tzinfo) if tzinfo is not None else _dt.datetime(state)
    if code == DATE:
        return _dt.date(data)
    if code == TIMEZONE:
        return _dt.timezone(*_nested_unpackb(data, depth))
    if code == TIMEDELTA:
        return _dt.timedelta(*_nested_unpackb(data, depth))
    if code == UUID:
        import uuid as _uuid

        raw, safe = _nested_unpackb(data, depth)
        return _uuid.UUID(bytes=raw, is_safe=_uuid.SafeUUID(safe))
    if code == ZONEINFO:
        import zoneinfo

        return zoneinfo.ZoneInfo(data.decode())
    if code == OPAQUE:
        return Opaque(data.decode())
    if code in _PLAIN_OF_SUBCLASS:
        type_name, plain = _nested_unpackb(data, depth)
        if type(plain) is not _PLAIN_OF_SUBCLASS[code]:
            raise CorruptValue(f"corrupt value of extension type {code}")
        if code == BYTES_SUBCLASS and type_name == "builtins.bytearray":
            return bytearray(plain)
        cls = _resolve(type_name, _ENUM_TYPES)
        if cls is None or not issubclass(cls, _PLAIN_OF_SUBCLASS[code]):
            return plain
        try:
            return cls(plain)  # an enum member looked up by its value
        except ValueError:
            return plain
    return msgpack.ExtType(code, data)


def _int_to_bytes(value: int) -> bytes:
    return value.to_bytes((value + (value < 0)).bit_length() // 8 + 1, "little", signed=True)


def _int_from_bytes(data: bytes) -> int:
    return int.from_bytes(data, "little", signed=True)


def _packers(default: Callable[[object], object]) -> Callable[[object], bytes]:
    """``pack(value)`` with a Packer taken from a pool of spare ones.

    A Packer is not re-entrant: its ``default`` hook runs Python code (a tuple, a
    stat_result) that packs the items with a Packer of its own, and there another thread
    may take the GIL and pack too (sharing one interleaved two events' bytes into a
    corrupt tape). So each pack takes a Packer nobody holds. Not a new one each time: a
    Packer starts with a 256 KiB buffer, which malloc maps and unmaps, and a tuple in a
    result made every ``os.stat`` cost ten times the call. ``list.pop`` and ``append`` are
    atomic under the GIL; a Packer empties itself when packing raises."""
    spare: list[msgpack.Packer] = []

    def pack(value: object) -> bytes:
        try:
            packer = spare.pop()
        except IndexError:
            packer = msgpack.Packer(default=default, use_bin_type=True, strict_types=True, datetime=False,
                                    unicode_errors=_UNICODE_ERRORS)
        try:
            return packer.pack(value)
        finally:
            spare.append(packer)

    return pack


# packb(value): a result or payload, exactly; raises TypeError for a type it does not know.
packb = _packers(_encode_extension)
# pack_arguments(value): call arguments; an object it does not know becomes an Opaque type name.
pack_arguments = _packers(_encode_argument)


def unpackb(data: bytes) -> object:
    """Decode one value; a corrupt or crafted one raises ValueError (or TypeError)."""
    return msgpack.unpackb(data, ext_hook=_decode_extension, raw=False, strict_map_key=False,
                           unicode_errors=_UNICODE_ERRORS)


def new_unpacker() -> msgpack.Unpacker:
    """A streaming unpacker for tape contents."""
    return msgpack.Unpacker(ext_hook=_decode_extension, raw=False, strict_map_key=False, max_buffer_size=1 << 31,
                            unicode_errors=_UNICODE_ERRORS)


# Extension types whose decoding may need a module the program has not imported yet.
# DATETIME too: its tzinfo may be a ZoneInfo, and ZoneInfo(key) made while reading the
# tape ahead would fill zoneinfo's cache before the program's own ZoneInfo(key), whose
# file reads are on the tape (arrow's suite diverged there).
_NEEDS_MODULE = frozenset({STRUCTSEQ, INT_SUBCLASS, STR_SUBCLASS, FLOAT_SUBCLASS, BYTES_SUBCLASS, UUID,
                           ZONEINFO, DATETIME})


class Deferred:
    """An extension value decoded later, when the program has imported its type's module
    (decoding it early would import, say, ``uuid`` before the program does)."""

    __slots__ = ("code", "data")

    def __init__(self, code: int, data: bytes) -> None:
        self.code, self.data = code, data


_CONTAINERS = {TUPLE: tuple, SET: set, FROZENSET: frozenset}


def _decode_or_defer(code: int, data: bytes, depth: int = 0) -> object:
    if code in _NEEDS_MODULE:
        return Deferred(code, data)
    container = _CONTAINERS.get(code)
    if container is not None:  # its items may need deferring too
        if depth >= _MAX_NESTING:
            raise CorruptValue("values nested too deeply")
        return container(msgpack.unpackb(
            data, ext_hook=lambda code, payload: _decode_or_defer(code, payload, depth + 1), raw=False,
            strict_map_key=False, unicode_errors=_UNICODE_ERRORS))
    return _decode_extension(code, data, depth)


def unpack_all_deferred(stream: bytes) -> list:
    """Every object of a tape stream, with :class:`Deferred` in place of module-bound values."""
    unpacker = msgpack.Unpacker(ext_hook=_decode_or_defer, raw=False, strict_map_key=False,
                                max_buffer_size=1 << 31, unicode_errors=_UNICODE_ERRORS)
    unpacker.feed(stream)
    objects = []
    try:
        for item in unpacker:
            objects.append(item)
    except (msgpack.UnpackException, ValueError, TypeError):
        pass  # a cut-off end: the objects before it are good
    return objects


def resolve(value: object) -> object:
    """``value`` with every :class:`Deferred` inside it decoded now."""
    cls = value.__class__
    if cls is Deferred:
        return resolve(_decode_extension(value.code, value.data))
    if cls is list:
        return [resolve(item) for item in value]
    if cls is tuple:
        return tuple(resolve(item) for item in value)
    if cls is dict:
        return {resolve(k): resolve(v) for k, v in value.items()}
    if cls is set or cls is frozenset:
        return cls(resolve(item) for item in value)
    return value


def contains_deferred(value: object) -> bool:
    cls = value.__class__
    if cls is Deferred:
        return True
    if cls is list or cls is tuple or cls is set or cls is frozenset:
        return any(contains_deferred(item) for item in value)
    if cls is dict:
        return any(contains_deferred(k) or contains_deferred(v) for k, v in value.items())
    return False
