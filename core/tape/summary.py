"""Short human-readable forms of events, for `events`, the timeline and reports."""
from __future__ import annotations

import reprlib

from retrace_core.tape.reader import Event

_short = reprlib.Repr()
_short.maxstring = 72
_short.maxother = 72
_short.maxlist = 4
_short.maxtuple = 4
_short.maxlevel = 2


def short(value: object, width: int = 60) -> str:
    text = _short.repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def describe(function: str, arguments: object) -> str:
    """``function(arg, key=value)`` with each argument shortened."""
    if arguments is None:
        return f"{function}()"
    if isinstance(arguments, list) and len(arguments) == 2 and isinstance(arguments[1], dict):
        positional, keywords = arguments
        parts = [short(a, 72) for a in positional] + [f"{k}={short(v, 40)}" for k, v in keywords.items()]
    else:
        parts = [short(a, 72) for a in arguments] if isinstance(arguments, (tuple, list)) else [short(arguments)]
    return f"{function}({', '.join(parts)})"


def describe_call(event: Event) -> str:
    return describe(event.function, event.arguments)


def describe_result(event: Event, width: int = 60) -> str:
    if event.raised:
        module, qualname, arguments, _extra = event.value
        return f"raised {qualname}({', '.join(short(a, 72) for a in arguments)})"
    return short(event.value, width)


def as_json(event: Event) -> dict:
    return {"number": event.number, "thread": event.thread, "function": event.function,
            "call": describe_call(event), "raised": event.raised, "result": describe_result(event, 200)}
