"""``os.scandir``: the listing is one event; entries answer from what was recorded.

A real ``os.DirEntry`` answers ``is_dir()`` from the directory read and ``stat()`` from
a later system call, so the listing keeps each entry's name, path, inode and type bits,
and ``stat()`` is an event of its own. Listings are stored as differences from the last
listing of the same folder (listings.py): pytest scans its base temporary folder with
``os.scandir`` before each test, and a 5,000-test suite stored 841 MB of such listings.

Recorded, the program gets the real entries, whose ``stat()`` (``os.DirEntry.stat``,
patched on the type) is recorded; replayed, stand-ins built from the rows. pytest lists
its growing base temporary folder before every test, 12 million entries over 5,000
tests: a stand-in made in Python for each took a quarter of a recorded scan's time (a
folder of 3,000 entries scanned 300 times: 2.7 s recorded before, 2.0 s after, 0.9 s plain).
"""
from __future__ import annotations

import os
from itertools import repeat

from retrace_core.boundary.guard import guard
from retrace_core.boundary.listings import Listings, listing_key
from retrace_core.boundary.packed_listings import PackedListings
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, call_arguments, copy_identity, non_binding

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True

STAT = "os.DirEntry.stat"
FOLLOWED = {"is_dir": "os.DirEntry.is_dir", "is_file": "os.DirEntry.is_file"}
IS_DIR, IS_DIR_NOFOLLOW, IS_FILE, IS_FILE_NOFOLLOW, IS_SYMLINK, IS_JUNCTION = (1 << i for i in range(6))
# A symlink's followed is_dir()/is_file() are events of their own, made when the program
# asks: telling them in the listing took a stat of the target per symlink per listing, and
# pytest lists a "<test name>current" symlink per test before each test (5,000 tests: some
# 12 million stats, most of what recording such a suite cost). Listings recorded before
# this bit existed hold the followed answers as IS_DIR and IS_FILE.
FOLLOWED_ASKED = 1 << 6
_DirEntry = os.DirEntry
# The type's own methods: DirEntryFollowed replaces is_dir and is_file on the type (and
# sets these to what it replaced, in case this module was imported after it).
_real_is_symlink, _real_is_dir, _real_is_file = _DirEntry.is_symlink, _DirEntry.is_dir, _DirEntry.is_file


_PLAIN_DIR = IS_DIR | IS_DIR_NOFOLLOW
_PLAIN_FILE = IS_FILE | IS_FILE_NOFOLLOW
_SYMLINK = IS_SYMLINK | FOLLOWED_ASKED


def _type_bits(entry) -> int:
    """The entry's answers to is_dir/is_file (followed and not), is_symlink, is_junction.
    Only a symlink's followed answers differ from its own: other entries take two calls
    (pytest lists thousands of entries before each test)."""
    try:
        if not entry.is_symlink():
            if entry.is_dir(follow_symlinks=False):
                return _PLAIN_DIR
            return _PLAIN_FILE if entry.is_file(follow_symlinks=False) else 0
    except OSError:
        pass
    return _each_answer(entry)


def _each_answer(entry) -> int:
    """A symlink's answers (or those of an entry whose type could not be read), one by one,
    each error a False as os.DirEntry's own would be. A symlink's followed answers are left
    to events (FOLLOWED_ASKED); another entry's share one stat, which os.DirEntry keeps."""
    bits = 0
    try:
        bits |= IS_SYMLINK if entry.is_symlink() else 0
    except OSError:
        pass
    if bits:
        return bits | FOLLOWED_ASKED | _answers_not_followed(entry)
    try:
        bits |= IS_DIR if entry.is_dir() else 0
    except OSError:
        pass
    try:
        bits |= IS_FILE if entry.is_file() else 0
    except OSError:
        pass
    return bits | _answers_not_followed(entry)


def _answers_not_followed(entry) -> int:
    bits = 0
    try:
        bits |= IS_DIR_NOFOLLOW if entry.is_dir(follow_symlinks=False) else 0
    except OSError:
        pass
    try:
        bits |= IS_FILE_NOFOLLOW if entry.is_file(follow_symlinks=False) else 0
    except OSError:
        pass
    try:
        bits |= IS_JUNCTION if getattr(entry, "is_junction", _no)() else 0
    except OSError:
        pass
    return bits


def _no() -> bool:
    return False


class RecordedDirEntry:
    """Stands in for ``os.DirEntry`` (which cannot be built from Python) in a replay."""

    __slots__ = ("name", "path", "_inode", "_bits", "_ask")

    def __init__(self, name, path, inode, bits, ask) -> None:
        self.name, self.path, self._inode, self._bits = name, path, inode, bits
        self._ask = ask  # ask(function, arguments): the recorded answer

    @property
    def __class__(self):
        return _DirEntry  # isinstance(entry, os.DirEntry), as of the real entries recorded

    def inode(self) -> int:
        return self._inode

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        if follow_symlinks and self._bits & FOLLOWED_ASKED:
            return self._ask(FOLLOWED["is_dir"], (self.path,))
        return bool(self._bits & (IS_DIR if follow_symlinks else IS_DIR_NOFOLLOW))

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        if follow_symlinks and self._bits & FOLLOWED_ASKED:
            return self._ask(FOLLOWED["is_file"], (self.path,))
        return bool(self._bits & (IS_FILE if follow_symlinks else IS_FILE_NOFOLLOW))

    def is_symlink(self) -> bool:
        return bool(self._bits & IS_SYMLINK)

    def is_junction(self) -> bool:
        return bool(self._bits & IS_JUNCTION)

    def stat(self, *, follow_symlinks: bool = True):
        return self._ask(STAT, (self.path, follow_symlinks))

    def __fspath__(self):
        return self.path

    def __repr__(self) -> str:
        return f"<DirEntry {self.name!r}>"

    __class_getitem__ = classmethod(lambda cls, item: cls)


class ListedScandirIterator:
    """The iterator ``os.scandir`` returns: a context manager over entries listed already.
    A ``for`` loop runs on the list's own iterator, in C (``next()`` shares it)."""

    __slots__ = ("_entries", "_iterator")

    def __init__(self, entries: list) -> None:
        self._entries = entries
        self._iterator = iter(entries)

    def __iter__(self):
        return self._iterator

    def __next__(self):
        return next(self._iterator)

    def close(self) -> None:
        self._entries.clear()  # the list's iterator stops too

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _listing(original, args, kwargs) -> tuple[list, list]:
    """The real entries, and the rows the tape keeps of them. A directory or a file not
    followed is no symlink: one or two calls tell most entries' type bits (pytest lists
    thousands before each test: 122 ns an entry through `_type_bits`, 78 ns here)."""
    with original(*args, **kwargs) as iterator:
        entries = list(iterator)
    rows = []
    append = rows.append
    is_dir, is_file, is_symlink = _real_is_dir, _real_is_file, _real_is_symlink
    for e in entries:
        try:
            if is_dir(e, follow_symlinks=False):
                bits = _PLAIN_DIR
            elif is_file(e, follow_symlinks=False):
                bits = _PLAIN_FILE
            elif is_symlink(e):
                bits = _SYMLINK  # not a directory nor a file unfollowed; followed, asked
            else:
                bits = _type_bits(e)  # a symlink, or neither (a socket, a fifo)
        except OSError:
            bits = _type_bits(e)
        append((e.name, e.path, e.inode(), bits))
    return entries, rows


class Scandir:
    """``os.scandir``: the listing is one event, each entry's ``stat()`` another (see above)."""

    @staticmethod
    def record(entry, original, tape):
        listing_headers = Headers(tape, entry.qualified_name, True)
        listings = Listings()

        def recorded_scandir(*args, **kwargs):
            entries, _rows = record(listing_headers, tape, lambda: _listing(original, args, kwargs),
                                    call_arguments(args, kwargs),
                                    lambda listed: listings.encode(listing_key(args, kwargs), listed[1]))
            return ListedScandirIterator(entries)

        return non_binding(copy_identity(recorded_scandir, original))

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name
        listings = PackedListings(width=4)  # name, path, inode, type bits

        ask = player.answer

        def replayed_scandir(*args, **kwargs):
            if guard.busy:
                return original(*args, **kwargs)
            listing = listings.decode(listing_key(args, kwargs), player.answer(name, call_arguments(args, kwargs)))
            if listing.__class__ is tuple:  # columns
                return ListedScandirIterator(list(map(RecordedDirEntry, *listing, repeat(ask))))
            return ListedScandirIterator([RecordedDirEntry(*row, ask) for row in listing])

        return non_binding(copy_identity(replayed_scandir, original))


class DirEntryStat:
    """``os.DirEntry.stat`` of the real entries a recorded ``os.scandir`` returns: an event
    (replayed, the program has stand-ins, whose ``stat()`` answers it)."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, STAT, True)

        def stat(self, *, follow_symlinks=True):
            return record(headers, tape, lambda: original(self, follow_symlinks=follow_symlinks),
                          (self.path, follow_symlinks))

        return copy_identity(stat, original)

    @staticmethod
    def replay(entry, original, player):
        return original


class DirEntryFollowed:
    """``os.DirEntry.is_dir`` and ``is_file`` of the real entries a recorded ``os.scandir``
    returns: followed, on a symlink, an event (the listing does not hold that answer, see
    FOLLOWED_ASKED); otherwise the real call, answered from the listing when replayed."""

    @staticmethod
    def record(entry, original, tape):
        method = entry.name.rpartition(".")[2]
        globals()[f"_real_{method}"] = original
        headers = Headers(tape, FOLLOWED[method], True)

        def followed(self, *, follow_symlinks=True):
            if not follow_symlinks or guard.busy or not _real_is_symlink(self):
                return original(self, follow_symlinks=follow_symlinks)
            return record(headers, tape, lambda: original(self, follow_symlinks=True), (self.path,))

        return copy_identity(followed, original)

    @staticmethod
    def replay(entry, original, player):
        return original
