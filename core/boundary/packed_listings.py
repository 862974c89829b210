"""The replay's last listing of each folder, packed into a few flat objects.

A replay rebuilds each listing from the last one (listings.py): pytest lists its base
temporary folder before every test, and the folder gains an entry per test. Kept as the
tape's own objects, the last listing of a 5,000-entry folder referred to 5,000 rows
decoded at 5,000 places of the tape, and each listing took a reference to every one of
them again: CPython writes a reference count into the object, so each listing rewrote a
page in every part of the decoded tape. Each snapshot of the debugger is a fork, which
keeps its own copy of every page rewritten after it: a hundred tests apart, they cost 17
to 30 MiB each (12 to 14 packed), and the memory budget kept 6 of them (11 to 12 packed).

So between two listings the replay keeps a listing as columns: names and paths each
joined into one string, inode numbers and type bits as arrays. The next listing splits
them into fresh objects, made together, and rebuilds from those. Only the items a delta
adds are checked; a column that does not fit (an item of another type, a name holding
the separator: only a crafted tape) is kept as the list it is, and a listing whose items
are not rows as its items: both replay the same and only cost the memory.
"""
from __future__ import annotations

from array import array

_SEPARATORS = {str: "\0", bytes: b"\0"}


class PackedListings:
    """The replay's last listing of each set of arguments, packed between listings.

    ``width`` is the number of fields of a row (scandir's name, path, inode and type bits),
    or None when each item is one value (listdir's names). ``decode`` returns a tuple of
    columns (fresh lists, one per field) for a listing rebuilt from a delta, or the list of
    items: a whole listing as stored, or one whose items are not rows."""

    def __init__(self, width: int | None = None) -> None:
        self.width = width
        self.last: dict = {}  # key -> tuple of packed columns, or the list of items

    def decode(self, key, stored) -> tuple | list:
        width = self.width or 1
        previous = self.last.get(key)
        if stored.__class__ is not tuple:
            # A whole listing: its items were decoded together, so they lie together; kept
            # and returned as they are (with threads running, every listing is whole).
            self.last[key] = stored
            return stored
        if previous.__class__ is not tuple:  # none yet, or items that are not rows
            columns = self._columns_of(previous or [], width)
            if columns is None:
                return self._as_items(key, stored, previous)
            old, checked = columns, (False,) * width
        else:  # a column kept as a list was not checked
            old, checked = tuple(map(_unpack, previous)), tuple(c.__class__ is not list for c in previous)
        columns = tuple([] for _ in range(width))
        added = tuple([] for _ in range(width))
        for segment in stored:
            if segment.__class__ is list and len(segment) == 2 and segment[0].__class__ is int:
                start, end = segment[0], segment[0] + segment[1]
                for column, source in zip(columns, old):
                    column.extend(source[start:end])
            elif self.width is None:
                columns[0].append(segment)
                added[0].append(segment)
            elif _is_row(segment, width):
                for column, new, value in zip(columns, added, segment):
                    column.append(value)
                    new.append(value)
            else:
                return self._as_items(key, stored, list(zip(*old)))
        self.last[key] = tuple(_pack(column, new if known else column)
                               for column, new, known in zip(columns, added, checked))
        return columns

    def _columns_of(self, items: list, width: int) -> tuple | None:
        if self.width is None:
            return (list(items),)
        if not all(_is_row(item, width) for item in items):
            return None
        return tuple(map(list, zip(*items))) if items else tuple([] for _ in range(width))

    def _as_items(self, key, stored: tuple, previous: list | None) -> list:
        """A listing that is not made of rows: rebuilt as listings.py does, kept as it is."""
        previous = previous or []
        items: list = []
        for segment in stored:
            if segment.__class__ is list and len(segment) == 2 and segment[0].__class__ is int:
                items.extend(previous[segment[0]:segment[0] + segment[1]])
            else:
                items.append(segment)
        self.last[key] = items
        return items


def _is_row(item, width: int) -> bool:
    return (item.__class__ is tuple or item.__class__ is list) and len(item) == width


def _pack(column: list, unchecked: list):
    """One column as one flat object (joined strings, an array of ints), or the list itself.
    ``unchecked``: the values not known to be of the column's kind (those a delta added)."""
    if not column:
        return column
    kind = column[0].__class__
    if not all(value.__class__ is kind for value in unchecked):
        return column
    separator = _SEPARATORS.get(kind)
    if separator is not None:
        joined = separator.join(column)
        # One separator between each two items: no item held one.
        return (joined, separator, len(column)) if joined.count(separator) == len(column) - 1 else column
    if kind is int:
        try:
            return array("Q", column)
        except OverflowError:  # a negative or a huge number
            return column
    return column


def _unpack(packed) -> list:
    if packed.__class__ is tuple:
        joined, separator, count = packed
        return joined.split(separator) if count else []
    if packed.__class__ is array:
        return packed.tolist()
    return packed
