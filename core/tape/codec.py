"""Values on the tape: msgpack plus a few extension types.

Results must come back from the tape as the same types the program saw (a tuple stays
a tuple, an ``os.stat_result`` stays one), so the packer runs with ``strict_types`` and
everything msgpack does not know natively goes through :func:`_encode_extension`.
Arguments are only informative (shown, and compared in replay), so their packer turns
unknown objects into an opaque type name instead of failing, and never calls user code.
"""
from __future__ import annotations

import datetime as _dt
import sys

import msgpack

TUPLE = 1
STRUCTSEQ = 2
SET = 3
FROZENSET = 4
INT_SUBCLASS = 5
STR_SUBCLASS = 6
BIG_INT = 7
DATETIME = 8
TIMEZONE = 9
UUID = 10
OPAQUE = 11
TIMEDELTA = 12
ZONEINFO = 13
DATE = 14
FLOAT_SUBCLASS = 15
BYTES_SUBCLASS = 16

# Modules whose struct-sequence types may be rebuilt from a tape.
_STRUCTSEQ_MODULES = frozenset({"os", "posix", "time", "resource", "pwd", "grp"})
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


def _nested_result(value: object) -> bytes:
    # A Packer is not re-entrant: extension payloads get a packer of their own.
    return msgpack.packb(value, default=_encode_extension, use_bin_type=True, strict_types=True, datetime=False)


def _nested_argument(value: object) -> bytes:
    return msgpack.packb(value, default=_encode_argument, use_bin_type=True, strict_types=True, datetime=False)


def _encode_extension(value: object) -> msgpack.ExtType:
    return _extension(value, _nested_result)


def _extension(value: object, _nested) -> msgpack.ExtType:
    """The extension type for ``value``; containers encode their items with ``_nested``."""
    cls = type(value)
    if cls is tuple:
        return msgpack.ExtType(TUPLE, _nested(list(value)))
    if cls is int:  # only reached when out of msgpack's 64-bit range
        return msgpack.ExtType(BIG_INT, str(value).encode())
    if isinstance(value, tuple) and hasattr(cls, "n_sequence_fields"):
        _, (visible, hidden) = value.__reduce__()
        return msgpack.ExtType(STRUCTSEQ, _nested([_type_name(value), list(visible), hidden]))
    if cls is set or cls is frozenset:
        return msgpack.ExtType(SET if cls is set else FROZENSET, _nested(list(value)))
    if isinstance(value, _dt.datetime):
        return msgpack.ExtType(DATETIME, _nested([value.__reduce__()[1][0], value.tzinfo]))
    if isinstance(value, _dt.date):
        return msgpack.ExtType(DATE, value.__reduce__()[1][0])
    if cls is _dt.timezone:
        return msgpack.ExtType(TIMEZONE, _nested(list(value.__getinitargs__())))
    if cls is _dt.timedelta:
        return msgpack.ExtType(TIMEDELTA, _nested([value.days, value.seconds, value.microseconds]))
    if cls.__module__ == "uuid" and cls.__name__ == "UUID":
        return msgpack.ExtType(UUID, _nested([value.bytes, value.is_safe.value]))
    if cls.__module__ == "zoneinfo" and cls.__name__ == "ZoneInfo":
        return msgpack.ExtType(ZONEINFO, value.key.encode())
    if isinstance(value, int):
        return msgpack.ExtType(INT_SUBCLASS, _nested([_type_name(value), int(value)]))
    if isinstance(value, str):
        return msgpack.ExtType(STR_SUBCLASS, _nested([_type_name(value), str(value)]))
    if isinstance(value, float):
        return msgpack.ExtType(FLOAT_SUBCLASS, _nested([_type_name(value), float(value)]))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return msgpack.ExtType(BYTES_SUBCLASS, _nested([_type_name(value), bytes(value)]))
    raise TypeError(f"retrace cannot store a value of type {_type_name(value)}")


def _encode_argument(value: object) -> object:
    if hasattr(value, "__fspath__") and not isinstance(value, (str, bytes)):
        try:
            return type(value).__fspath__(value)
        except Exception:
            pass
    try:
        return _extension(value, _nested_argument)
    except TypeError:
        return msgpack.ExtType(OPAQUE, _type_name(value).encode())


def _resolve(type_name: str, allowed_modules: frozenset[str]) -> type | None:
    module_name, _, qualname = type_name.rpartition(".")
    if module_name not in allowed_modules:
        return None
    module = sys.modules.get(module_name) or __import__(module_name)
    return getattr(module, qualname, None)


def _decode_extension(code: int, data: bytes) -> object:
    if code == TUPLE:
        return tuple(unpackb(data))
    if code == BIG_INT:
        return int(data)
    if code == STRUCTSEQ:
        type_name, visible, hidden = unpackb(data)
        cls = _resolve(type_name, _STRUCTSEQ_MODULES)
        return cls((*visible,), hidden) if cls is not None else tuple(visible)
    if code == SET:
        return set(unpackb(data))
    if code == FROZENSET:
        return frozenset(unpackb(data))
    if code == DATETIME:
        state, tzinfo = unpackb(data)
        return _dt.datetime(state, tzinfo) if tzinfo is not None else _dt.datetime(state)
    if code == DATE:
        return _dt.date(data)
    if code == TIMEZONE:
        return _dt.timezone(*unpackb(data))
    if code == TIMEDELTA:
        return _dt.timedelta(*unpackb(data))
    if code == UUID:
        import uuid as _uuid

        raw, safe = unpackb(data)
        return _uuid.UUID(bytes=raw, is_safe=_uuid.SafeUUID(safe))
    if code == ZONEINFO:
        import zoneinfo

        return zoneinfo.ZoneInfo(data.decode())
    if code == OPAQUE:
        return Opaque(data.decode())
    if code in (INT_SUBCLASS, STR_SUBCLASS, FLOAT_SUBCLASS, BYTES_SUBCLASS):
        type_name, plain = unpackb(data)
        cls = _resolve(type_name, frozenset({"socket", "enum", "signal", "errno"}))
        try:
            return cls(plain) if cls is not None else plain
        except Exception:
            return plain
    return msgpack.ExtType(code, data)


_result_packer = msgpack.Packer(default=_encode_extension, use_bin_type=True, strict_types=True, datetime=False)
_argument_packer = msgpack.Packer(default=_encode_argument, use_bin_type=True, strict_types=True, datetime=False)


def packb(value: object) -> bytes:
    """Encode a result or payload exactly; raises TypeError for unknown types."""
    return _result_packer.pack(value)


def pack_arguments(value: object) -> bytes:
    """Encode call arguments; unknown objects become :class:`Opaque` type names."""
    return _argument_packer.pack(value)


def unpackb(data: bytes) -> object:
    return msgpack.unpackb(data, ext_hook=_decode_extension, raw=False, strict_map_key=False)


def new_unpacker() -> msgpack.Unpacker:
    """A streaming unpacker for tape contents."""
    return msgpack.Unpacker(
        ext_hook=_decode_extension, raw=False, strict_map_key=False, max_buffer_size=1 << 31
    )


# Extension types whose decoding may need a module the program has not imported yet.
_NEEDS_MODULE = frozenset({STRUCTSEQ, INT_SUBCLASS, STR_SUBCLASS, FLOAT_SUBCLASS, BYTES_SUBCLASS, UUID,
                           ZONEINFO})


class Deferred:
    """An extension value decoded later, when the program has imported its type's module
    (decoding it early would import, say, ``uuid`` before the program does)."""

    __slots__ = ("code", "data")

    def __init__(self, code: int, data: bytes) -> None:
        self.code, self.data = code, data


_CONTAINERS = {TUPLE: tuple, SET: set, FROZENSET: frozenset}


def _decode_or_defer(code: int, data: bytes) -> object:
    if code in _NEEDS_MODULE:
        return Deferred(code, data)
    container = _CONTAINERS.get(code)
    if container is not None:  # its items may need deferring too
        return container(msgpack.unpackb(data, ext_hook=_decode_or_defer, raw=False, strict_map_key=False))
    return _decode_extension(code, data)


def unpack_all_deferred(stream: bytes) -> list:
    """Every object of a tape stream, with :class:`Deferred` in place of module-bound values."""
    unpacker = msgpack.Unpacker(ext_hook=_decode_or_defer, raw=False, strict_map_key=False,
                                max_buffer_size=1 << 31)
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
