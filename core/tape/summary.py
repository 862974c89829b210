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
    if isinstance(arguments, list) and len(arguments) == 2 and isinstance(arguments[0], (list, tuple)) \
            and isinstance(arguments[1], dict):
        positional, keywords = arguments
        parts = [short(a, 72) for a in positional] + [f"{k}={short(v, 40)}" for k, v in keywords.items()]
    else:
        parts = [short(a, 72) for a in arguments] if isinstance(arguments, (tuple, list)) else [short(arguments)]
    return f"{function}({', '.join(parts)})"


def describe_call(event: Event) -> str:
    return describe(event.function, event.arguments)


def describe_result(event: Event, width: int = 60) -> str:
    value = event.value
    if event.raised and isinstance(value, (list, tuple)) and len(value) == 4 and isinstance(value[2], (list, tuple)):
        _module, qualname, arguments, _extra = value
        return f"raised {str(qualname)[:60]}({', '.join(short(a, 72) for a in arguments)})"
    return ("raised " if event.raised else "") + short(value, width)


def as_json(event: Event) -> dict:
    return {"number": event.number, "thread": event.thread, "function": event.function,
            "call": describe_call(event), "raised": event.raised, "result": describe_result(event, 200)}


# What kind of outside-world contact an event is, for the timeline's icons and colours.
# The table's categories decide where a function is in it; the rest (methods of recorded
# files and sockets, which the table reaches through special wrappers) go by prefix.
_CATEGORY_NAMES = {"clock": "clock", "random": "random", "file": "file", "socket": "socket",
                   "process": "process", "subprocess": "process", "output": "output", "threads": "thread"}
_PREFIX_CATEGORIES = (("file.", "file"), ("io.", "file"), ("socket.", "socket"), ("select.", "socket"),
                      ("selectors.", "socket"), ("ssl.", "socket"), ("subprocess.", "process"),
                      ("sys.stdout", "output"), ("sys.stderr", "output"), ("sys.stdin", "file"),
                      ("random.", "random"), ("uuid.", "random"), ("time.", "clock"), ("datetime.", "clock"),
                      ("os.", "process"), ("threading.", "thread"), ("thread.", "thread"),
                      ("_thread.", "thread"))
_by_function: dict[str, str] | None = None


def category(event: Event) -> str:
    """clock, random, file, socket, process, output, thread or other."""
    global _by_function
    if _by_function is None:
        from retrace_core.boundary.table import TABLE

        _by_function = {entry.qualified_name: _CATEGORY_NAMES.get(entry.category, "other") for entry in TABLE}
    function = event.function
    if event.written_output() is not None:
        return "output"
    found = _by_function.get(function)
    if found is not None:
        return found
    for prefix, name in _PREFIX_CATEGORIES:
        if function.startswith(prefix):
            return name
    return "other"
