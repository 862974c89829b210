"""Answers from the tape for calls made while inspecting a stopped replay (player.py):
the latest recorded answer to the same call before that point."""
from __future__ import annotations

from retrace_core.tape import codec, format

_STATUS_BITS, _HAS_ARGS = format.STATUS_BITS, format.HAS_ARGS

# (id of the decoded tape, end, function) -> where that function's events start. An
# inspecting fork answers one request (every local's repr), often calling the same
# function for several locals; a pass over a tape of 2.8 million events takes 0.3 s.
_events_of: dict[tuple[int, int, str], list[int]] = {}


def latest_answer(objects: list, end: int, functions: dict[int, tuple[str, int]], function: str,
                  arguments: object, any_arguments: bool) -> tuple[bool, object, object] | None:
    """(raised, arguments, value) of the last event in ``objects[:end]`` (a decoded tape)
    that called ``function`` with ``arguments`` (with any, if ``any_arguments``), or None."""
    for position in reversed(_positions(objects, end, functions, function)):
        item = objects[position]
        with_arguments = bool(functions[item >> _STATUS_BITS][1] & _HAS_ARGS)
        recorded = codec.resolve(objects[position + 1]) if with_arguments else None
        if any_arguments or recorded == arguments:
            value = objects[position + 1 + with_arguments]
            if value.__class__ is not float and codec.contains_deferred(value):
                value = codec.resolve(value)
            return item & format.STATUS_MASK == format.RAISED, recorded, value
    return None


def _positions(objects: list, end: int, functions: dict[int, tuple[str, int]], function: str) -> list[int]:
    """Where the events of ``function`` in ``objects[:end]`` start: one pass, then kept."""
    key = (id(objects), end, function)
    found = _events_of.get(key)
    if found is not None:
        return found
    numbers = {number for number, (name, _flags) in functions.items() if name == function}
    found, position = [], 0
    while numbers and position < end:
        item = objects[position]
        if item.__class__ is not int:
            position += 1  # a control record, or a collection placed here
            continue
        with_arguments = functions[item >> _STATUS_BITS][1] & _HAS_ARGS
        if item >> _STATUS_BITS in numbers and position + 1 + bool(with_arguments) < len(objects):
            found.append(position)
        position += 3 if with_arguments else 2
    _events_of[key] = found
    return found
