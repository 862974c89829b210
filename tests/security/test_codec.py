"""The tape codec as a reader of untrusted input, and its exact round trip.

A crafted tape must not make a reader resolve a name it holds or call a function it
names; every value a boundary call can return must come back exactly.
"""
from __future__ import annotations

import math
import random
import signal
import socket
import struct

import msgpack
import pytest

from retrace_core.tape import codec


class Raw(bytes):
    """An extension payload given as it is, not packed."""


def _ext(code: int, payload: object) -> msgpack.ExtType:
    return msgpack.ExtType(code, payload if type(payload) is Raw else msgpack.packb(payload, use_bin_type=True))


def _crafted(code: int, payload: object) -> bytes:
    return msgpack.packb(_ext(code, payload), use_bin_type=True)


@pytest.mark.parametrize("code, payload", [
    (codec.STR_SUBCLASS, ["socket.gethostbyname", "example.invalid"]),
    (codec.INT_SUBCLASS, ["signal.raise_signal", signal.SIGTERM]),
    (codec.INT_SUBCLASS, ["socket.close", 1]),
    (codec.INT_SUBCLASS, ["os.close", 1]),
    (codec.STR_SUBCLASS, ["os.system", "touch pwned"]),
    (codec.INT_SUBCLASS, ["errno.__loader__", 1]),
    (codec.STRUCTSEQ, ["os.system", ["touch pwned"], {}]),
    (codec.STRUCTSEQ, ["os.kill", [1], 9]),
    (codec.STR_SUBCLASS, ["builtins.eval", "1/0"]),
    (codec.STR_SUBCLASS, ["enum.EnumType", "x"]),
])
def test_a_crafted_value_never_calls_what_it_names(code, payload, tmp_path, monkeypatch):
    called = []
    for name in ("gethostbyname", "close"):
        monkeypatch.setattr(socket, name, lambda *a, name=name: called.append(name))
    monkeypatch.setattr(signal, "raise_signal", lambda *a: called.append("raise_signal"))
    monkeypatch.chdir(tmp_path)
    try:
        decoded = codec.unpackb(_crafted(code, payload))
    except ValueError:
        decoded = None
    assert called == [] and not (tmp_path / "pwned").exists()
    assert decoded is None or type(decoded) in (int, str, tuple)


def test_the_enums_a_boundary_returns_still_come_back_as_themselves():
    for value in (socket.AF_INET6, socket.SOCK_DGRAM, socket.MSG_PEEK, socket.AI_PASSIVE, signal.SIGUSR1,
                  signal.SIG_IGN):
        decoded = codec.unpackb(codec.packb(value))
        assert decoded == value and type(decoded) is type(value)


@pytest.mark.parametrize("code, payload", [
    (codec.TUPLE, Raw(b"\xc1")), (codec.TUPLE, 5), (codec.DATETIME, [b"short", None]),
    (codec.DATETIME, [b"x" * 10, "not a tz"]),
    (codec.TIMEZONE, {"a": 1}), (codec.UUID, [b"1", 99]), (codec.ZONEINFO, "../../../etc/passwd"),
    (codec.ZONEINFO, "No/Such_Zone"), (codec.DECIMAL_INT, "9" * 100_000), (codec.OPAQUE, b"\xff"),
    (codec.INT_SUBCLASS, ["socket.AddressFamily", "not an int"]), (codec.STRUCTSEQ, 5),
    (codec.SET, [[1], [2]]),
])
def test_a_malformed_extension_is_one_kind_of_error(code, payload):
    with pytest.raises((ValueError, TypeError)):
        codec.unpackb(_crafted(code, payload))


def test_deeply_nested_extensions_are_refused_not_a_crash():
    value = msgpack.packb([], use_bin_type=True)
    for _ in range(5000):
        value = msgpack.packb(msgpack.ExtType(codec.TUPLE, value), use_bin_type=True)
    with pytest.raises(ValueError):
        codec.unpackb(value)
    with pytest.raises(ValueError):
        codec.new_unpacker().feed(value) or next(iter(_stream(value)))
    assert codec.unpack_all_deferred(value) == []


def _stream(data: bytes):
    unpacker = codec.new_unpacker()
    unpacker.feed(data)
    return unpacker


# -- exact round trip ---------------------------------------------------------------

EDGE_STRINGS = ["", "\udcff", "a\udc80b", "\ud800", "\udfff", "\ud83d\ude00", "\U0001f600", "\x00", "é" * 300,
                "\udcff" * 70000]
EDGE_INTS = [0, -1, 2**63 - 1, -2**63, 2**64 - 1, 2**64, -2**63 - 1, 2**200, -2**200, 10**5000, -(10**5000),
             255, -256, 2**63, -2**64]
EDGE_FLOATS = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308, -1.5]
EDGE_BYTES = [b"", b"\x00", bytes(range(256)), b"\xff" * 70000]


def _same(a: object, b: object) -> bool:
    """Equal, of the same type all the way down, -0.0 is not 0.0 and nan is nan."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(k in b and _same(v, b[k]) for k, v in a.items())
    return a == b


@pytest.mark.parametrize("value", EDGE_STRINGS + EDGE_INTS + EDGE_FLOATS + EDGE_BYTES, ids=lambda v: type(v).__name__)
def test_every_edge_value_round_trips_exactly(value):
    for pack in (codec.packb, codec.pack_arguments):
        assert _same(codec.unpackb(pack(value)), value)
        assert _same(codec.resolve(codec.unpack_all_deferred(pack(value))[0]), value)


def _random_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(9 if depth < 4 else 5)
    if kind == 0:
        return "".join(chr(rng.choice([rng.randrange(0x80), rng.randrange(0xD800, 0xE000),
                                       rng.randrange(0x110000)])) for _ in range(rng.randrange(8)))
    if kind == 1:
        return rng.choice([rng.randrange(-2**70, 2**70), rng.randrange(-300, 300), rng.getrandbits(2000)])
    if kind == 2:
        return rng.choice([struct.unpack("<d", rng.randbytes(8))[0], rng.choice(EDGE_FLOATS)])
    if kind == 3:
        return rng.randbytes(rng.randrange(10))
    if kind == 4:
        return rng.choice([None, True, False])
    items = [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 5:
        return items
    if kind == 6:
        return tuple(items)
    if kind == 7:
        return {str(i) + rng.choice(["", "\udcff"]): item for i, item in enumerate(items)}
    return [tuple(items), {"k": items}]


def test_random_nested_values_round_trip_exactly():
    rng = random.Random(14)
    for _ in range(3000):
        value = _random_value(rng)
        assert _same(codec.unpackb(codec.packb(value)), value), value
        assert _same(codec.resolve(codec.unpack_all_deferred(codec.packb(value))[0]), value), value
