"""Answers from the tape for calls made while inspecting a stopped replay (player.py):
the latest recorded answer to the same call before that point."""
from __future__ import annotations

from retrace_core.tape import codec, format

_STATUS_BITS, _HAS_ARGS = format.STATUS_BITS, format.HAS_ARGS


def latest_answer(objects: list, end: int, functions: dict[int, tuple[str, int]], function: str,
                  arguments: object, any_arguments: bool) -> tuple[bool, object, object] | None:
    """(raised, arguments, value) of the last event in ``objects[:end]`` (a decoded tape)
    that called ``function`` with ``arguments`` (with any, if ``any_arguments``), or None.
    One pass: an inspection asks this only for a call that is not the next event."""
    numbers = {number for number, (name, _flags) in functions.items() if name == function}
    if not numbers:
        return None
    found, position = None, 0
    while position < end:
        item = objects[position]
        if item.__class__ is not int:
            position += 1  # a control record, or a collection placed here
            continue
        number = item >> _STATUS_BITS
        with_arguments = bool(functions[number][1] & _HAS_ARGS)
        if number in numbers and position + 1 + with_arguments < len(objects):
            recorded = codec.resolve(objects[position + 1]) if with_arguments else None
            if any_arguments or recorded == arguments:
                found = (item, recorded, objects[position + 1 + with_arguments])
        position += 3 if with_arguments else 2
    if found is None:
        return None
    item, recorded, value = found
    if value.__class__ is not float and codec.contains_deferred(value):
        value = codec.resolve(value)
    return item & format.STATUS_MASK == format.RAISED, recorded, value
