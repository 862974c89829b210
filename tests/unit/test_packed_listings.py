"""The replay's listings, rebuilt from deltas and kept packed between listings
(core/boundary/packed_listings.py): every listing is the one the recorder listed, for
each kind of change, and what is kept refers to none of the tape's rows (a reference
taken again at each listing rewrote a page of the decoded tape per entry, which every
snapshot of the debugger then kept a copy of)."""
import random
from array import array

from retrace_core.boundary.listings import Listings
from retrace_core.boundary.packed_listings import PackedListings


def _rows(names: list, folder: str = "/tmp/base") -> list:
    return [(name, f"{folder}/{name}", 1_000_000 + len(name) * 7 + i, 5 if i % 3 else 67)
            for i, name in enumerate(names)]


def _replayed(listings: PackedListings, key, stored) -> list:
    listing = listings.decode(key, stored)
    return list(zip(*listing)) if listing.__class__ is tuple else list(listing)


def test_every_kind_of_change_replays_as_listed():
    recorder, replayer = Listings(), PackedListings(width=4)
    generator = random.Random(7)
    names = [f"test_t{i}current" for i in range(40)]
    for step in range(300):
        change = generator.choice(["append", "insert", "remove_first", "remove", "rename", "same", "shuffle"])
        if change == "append":
            names.append(f"new{step}")
        elif change == "insert":
            names.insert(generator.randrange(len(names) + 1), f"ins{step}")
        elif change == "remove_first" and names:
            names.pop(0)
        elif change == "remove" and names:
            names.pop(generator.randrange(len(names)))
        elif change == "rename" and names:
            names[generator.randrange(len(names))] += "~"
        elif change == "shuffle":
            generator.shuffle(names)
        rows = _rows(names)
        stored = recorder.encode("key", rows)
        assert _replayed(replayer, "key", stored) == rows, (step, change)


def test_between_listings_only_flat_columns_are_kept():
    recorder, replayer = Listings(), PackedListings(width=4)
    names = [f"entry{i}" for i in range(100)]
    for step in range(5):
        names.append(f"more{step}")
        _replayed(replayer, "key", recorder.encode("key", _rows(names)))
    kept = replayer.last["key"]
    assert [type(column).__name__ for column in kept] == ["tuple", "tuple", "array", "array"]
    assert kept[0][0].split("\0") == names and isinstance(kept[2], array)


def test_names_as_bytes_and_listdir_names_replay():
    recorder, replayer = Listings(), PackedListings(width=4)
    names = [f"b{i}".encode() for i in range(30)]
    for step in range(4):
        names.insert(3, f"x{step}".encode())
        rows = [(name, b"/d/" + name, 10 + i, 3) for i, name in enumerate(names)]
        assert _replayed(replayer, "bytes", recorder.encode("bytes", rows)) == rows
    recorder, replayer = Listings(), PackedListings()
    names = [f"n{i}" for i in range(30)]
    for step in range(4):
        names.append(f"y{step}")
        listing = replayer.decode("names", recorder.encode("names", list(names)))
        assert listing == ((names,) if step else names)  # the first is stored whole, the rest as deltas


def test_values_that_do_not_pack_are_kept_as_they_are():
    """Only a crafted tape holds these: a bool where an inode was, a name with the
    separator, a negative number, an item that is no row. Each replays as stored."""
    replayer = PackedListings(width=4)
    whole = _rows([f"e{i}" for i in range(20)])
    assert _replayed(replayer, "k", whole) == whole
    odd = [("a\0b", "/x/a\0b", True, -1)]
    stored = ([0, 20], *odd)
    assert _replayed(replayer, "k", stored) == whole + odd
    kept = replayer.last["k"]
    assert all(column.__class__ is list for column in kept)
    again = _replayed(replayer, "k", ([0, 21], ("z", "/x/z", 3, 1)))
    assert again == whole + odd + [("z", "/x/z", 3, 1)]
    assert type(again[20][2]) is bool
    not_a_row = _replayed(replayer, "k", ([0, 2], "just a name"))
    assert not_a_row == whole[:2] + ["just a name"]
    assert _replayed(replayer, "k", ([1, 2],)) == [whole[1], "just a name"]
