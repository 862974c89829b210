"""Directory listings on the tape as differences from the last listing of the folder
(``os.listdir`` here; ``os.scandir``'s rows in directories.py).

pytest lists its base temporary folder before every test, and the folder gains an entry
per test: a 5,000-test suite stored 12 million names (445 MB) for listings that each
differed from the one before by one name. A listing is stored whole the first time a
folder is listed; after that, while the program has one thread, as a *delta* from the
previous listing of the same arguments: a tuple of segments, each either ``[start,
count]`` (that run of the previous listing) or a new item; what the two listings share
at their start and at their end is kept by reference (one entry added or removed
anywhere, the usual change, costs a few bytes). Replay keeps the same last
listing per arguments and rebuilds the list (packed_listings.py). A delta is a tuple, a
whole listing a list, so the two cannot be mistaken on the tape.

With threads running, listings are stored whole: two threads listing one folder could
update the last listing in one order and write their events in the other.
"""
from __future__ import annotations

from itertools import compress, count
from operator import ne

from retrace_core.boundary import threads
from retrace_core.boundary.guard import guard
from retrace_core.boundary.packed_listings import PackedListings
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, call_arguments, module_function

__tracebackhide__ = True

SMALL = 16  # listings shorter than this are stored whole: a delta would not be shorter


class Listings:
    """The recorder's last listing of each set of arguments (the replay's: packed_listings.py)."""

    def __init__(self) -> None:
        self.last: dict = {}

    def encode(self, key, items: list) -> object:
        """What the tape keeps of ``items``: the list, or a delta from the last listing
        (what it shares with it at the start and at the end, and the items between)."""
        previous = self.last.get(key)
        # A copy: the program gets ``items`` itself, and may sort it in place.
        self.last[key] = list(items)
        if previous is None or len(items) < SMALL or threads._Threads.started:
            return items
        start = _common_prefix(items, previous)
        end = min(_common_suffix(items, previous), len(items) - start, len(previous) - start)
        if start + end < SMALL:
            return items
        segments: list = [[0, start]] if start else []
        segments.extend(items[start:len(items) - end])
        if end:
            segments.append([len(previous) - end, end])
        return tuple(segments)


def _common_prefix(a: list, b: list) -> int:
    """How many items ``a`` and ``b`` share at the start: the index of the first pair that
    differs, found in C (map, compress and count stop there; a listing has thousands of
    entries, and a loop over them in Python cost more than storing them whole)."""
    return next(compress(count(), map(ne, a, b)), min(len(a), len(b)))


def _common_suffix(a: list, b: list) -> int:
    return next(compress(count(), map(ne, reversed(a), reversed(b))), min(len(a), len(b)))


def listing_key(args: tuple, kwargs: dict):
    shown = call_arguments(args, kwargs)
    try:
        hash(shown)
        return shown
    except TypeError:
        return repr(shown)


class Listdir:
    """``os.listdir``: names, stored as a delta from the last listing of the folder."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)
        listings = Listings()

        def recorded_listdir(*args, **kwargs):
            return record(headers, tape, lambda: original(*args, **kwargs), call_arguments(args, kwargs),
                          lambda names: listings.encode(listing_key(args, kwargs), names))

        return module_function(recorded_listdir, original)

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name
        listings = PackedListings()

        def replayed_listdir(*args, **kwargs):
            if guard.busy:
                return original(*args, **kwargs)
            listing = listings.decode(listing_key(args, kwargs), player.answer(name, call_arguments(args, kwargs)))
            return listing[0] if listing.__class__ is tuple else list(listing)

        return module_function(replayed_listdir, original)
