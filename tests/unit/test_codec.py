"""The tape's value codec: results come back as the same types; arguments never fail."""
import datetime
import os
import pathlib
import socket
import time
import uuid

import pytest

from retrace_core.tape import codec


@pytest.mark.parametrize("value", [
    1, -2**70, 2**70, 1.5, "é", b"x", None, True, (1, 2), [1, (2, 3)], {"a": (1,)}, {1, 2}, frozenset({3}),
    os.stat("."), time.localtime(), os.uname(), os.times(), datetime.datetime(2026, 1, 2, 3, 4, 5, 6),
    datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc), datetime.date(2026, 1, 2),
    datetime.timedelta(days=1, seconds=2), uuid.UUID(int=7), socket.AF_INET,
])
def test_results_round_trip_with_their_types(value):
    decoded = codec.unpackb(codec.packb(value))
    assert decoded == value and type(decoded) is type(value)


def test_unknown_results_are_refused():
    with pytest.raises(TypeError):
        codec.packb(object())


def test_arguments_keep_paths_inside_containers_and_name_the_rest():
    decoded = codec.unpackb(codec.pack_arguments([(pathlib.Path("/tmp/x"), object()), {"k": pathlib.Path("y")}]))
    assert decoded == [("/tmp/x", codec.Opaque("builtins.object")), {"k": "y"}]


def test_a_clock_reading_is_small():
    assert len(codec.packb(time.time())) == 9


def test_deferred_values_wait_for_their_module_and_then_come_back_exact():
    value = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))]
    objects = codec.unpack_all_deferred(codec.packb(value))
    assert codec.contains_deferred(objects[0])
    assert codec.resolve(objects[0]) == value
    assert type(codec.resolve(objects[0])[0][0]) is socket.AddressFamily
