"""What a stopped program looks like: frames, locals as type + bounded safe repr.

Runs in a throw-away fork of the stopped worker (see Engine.inspect), so a ``__repr__``
that reads the clock, writes a file or mutates its object cannot change the replay.
"""
from __future__ import annotations

import reprlib

from retrace_core.ours import is_our_file
from retrace_core.trace import scope

REPR_LIMIT = 200
FULL_LIMIT = 100_000  # a whole value on demand: still bounded, a repr can be any size

_short = reprlib.Repr()
_short.maxstring = REPR_LIMIT
_short.maxother = REPR_LIMIT
_short.maxlong = REPR_LIMIT


def safe_repr(value: object, limit: int = REPR_LIMIT) -> str:
    try:
        text = _short.repr(value) if limit <= REPR_LIMIT else repr(value)
    except BaseException as exc:  # a user __repr__ may raise anything, even a divergence
        return f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def safe_text(value: object) -> str:
    """str(value), or what we can say when its __str__ fails."""
    try:
        return str(value)
    except BaseException as exc:
        return f"<str failed: {type(exc).__name__}>"


def program_frames(frame, rules: tuple = ()) -> list:
    """The frames of program code (as the tracer's prefix rules say), innermost first."""
    frames = []
    while frame is not None:
        filename = frame.f_code.co_filename
        if not is_our_file(filename) and scope.is_program(filename, rules):
            frames.append(frame)
        frame = frame.f_back
    return frames


def describe_value(name: str, value: object) -> dict:
    return {"name": name, "type": type(value).__qualname__, "repr": safe_repr(value),
            "expandable": _children(value) is not None}


def describe_frame(frame, with_locals: bool = True) -> dict:
    code = frame.f_code
    described = {"file": code.co_filename, "line": frame.f_lineno, "function": code.co_name}
    if with_locals:
        described["locals"] = [describe_value(name, value) for name, value in visible_locals(frame)]
    return described


def visible_locals(frame) -> list[tuple[str, object]]:
    """The frame's locals as a user looks at them: at module level, without the
    interpreter's own ``__name__``-style entries."""
    # pytest's assertion rewriting leaves its temporaries (@py_assert1) among the locals.
    names = [(name, value) for name, value in frame.f_locals.items() if not name.startswith("@py")]
    if frame.f_locals is frame.f_globals:
        names = [(name, value) for name, value in names if not (name.startswith("__") and name.endswith("__"))]
    return names


def _children(value: object) -> list[tuple[str, object]] | None:
    """What a value expands into in the locals tree, or None for a leaf."""
    if isinstance(value, (str, bytes, bytearray, int, float, complex, bool, type(None))):
        return None
    if isinstance(value, dict):
        return [(safe_repr(key, 60), item) for key, item in list(value.items())[:200]]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [(f"[{index}]", item) for index, item in enumerate(list(value)[:200])]
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict) and attributes:
        return [(name, item) for name, item in list(attributes.items())[:200]]
    slots = [name for cls in type(value).__mro__ for name in getattr(cls, "__slots__", ()) if isinstance(name, str)]
    found = [(name, getattr(value, name)) for name in slots if hasattr(value, name)]
    return found or None


def expand(frame, path: list[str]) -> list[dict]:
    """The children of the local at ``path`` (a local's name, then child names)."""
    value: object = frame.f_locals[path[0]]
    for step in path[1:]:
        children = dict(_children(value) or [])
        value = children[step]
    return [describe_value(name, child) for name, child in (_children(value) or [])]


def full_repr(frame, path: list[str]) -> str:
    value: object = frame.f_locals[path[0]]
    for step in path[1:]:
        value = dict(_children(value) or [])[step]
    return safe_repr(value, FULL_LIMIT)
