"""Watchpoints, value histories and logpoints, computed in the replay worker as it runs.

A watched expression is evaluated at every line of one frame (the frame at a program
depth of one thread), in that frame, while its call lives; a value that differs from
the one seen at the frame's previous line was changed by that previous line (a call
made on it included: a change made inside a callee shows at the caller's next line).
The worker asks the tracer to stop at every line at that depth or shallower (a step),
so deeper calls run at full speed, and answers each such stop itself, without a round
trip to the controller.

Which call is which: the frame object. While a call runs we hold its frame; a line at
the same depth in another frame is another call (a sibling), a line at a shallower
depth means the call has returned. Holding the frame of a call that has returned
until the next line at that depth or shallower delays its locals' finalizers by at most
that one step (see Engine._on_stop on why a held frame matters).

A watch on a plain local name whose value cannot change in place (a number, a string,
None; not yet assigned) changes only where the frame's bytecode stores that name: then
the tracer stops in that frame only at those lines and at the line after each
(:meth:`Watcher.store_filter`, csrc/tracer.c's watch filter), and a long loop in the
watched frame runs without a stop per line.

Values are compared by their text (see :func:`value_text`): a list appended to in place
changes, an object whose ``__repr__`` is the program's own is shown and compared by its
identity (its ``__repr__`` is not run: it may have side effects). Expressions are free of
side effects by syntax (conditions.is_pure, checked by the controller) and run with the
boundary bypassed, so they cannot consume the tape.
"""
from __future__ import annotations

import dis
import reprlib

from retrace_core.boundary.guard import bypass

UNSET = "<not set>"  # the expression could not be evaluated: a local not yet assigned, a missing key
TEXT_LIMIT = 200
# Values whose text changes only when the name is bound again (bool is an int).
_UNCHANGING = (int, float, complex, str, bytes, type(None), range)
# The instructions that bind or unbind a fast local (3.12's inlined comprehensions clear
# and restore theirs; 3.13 fuses stores: STORE_FAST_LOAD_FAST, STORE_FAST_STORE_FAST).
_STORES = ("STORE_FAST", "DELETE_FAST", "LOAD_FAST_AND_CLEAR")
_store_lines: dict[tuple, list[int] | None] = {}


class _SafeRepr(reprlib.Repr):
    """reprlib, trusting only reprs written in C (the built-in and C-extension types');
    anything else is shown as ``<Type object at 0x…>``, without running its code."""

    def repr_instance(self, value: object, level: int) -> str:
        if _c_repr(type(value)):
            return super().repr_instance(value, level)
        return f"<{type(value).__qualname__} object at {id(value):#x}>"


def _c_repr(cls: type) -> bool:
    method = getattr(cls, "__repr__", None)
    return type(method).__name__ in ("wrapper_descriptor", "method_descriptor", "builtin_function_or_method")


_safe = _SafeRepr()
_safe.maxstring = _safe.maxother = _safe.maxlong = TEXT_LIMIT
_safe.maxlist = _safe.maxtuple = _safe.maxdict = _safe.maxset = _safe.maxfrozenset = 30


def value_text(value: object) -> str:
    """The text a watch compares and shows: bounded, and no program code runs for it."""
    try:
        with bypass():
            text = _safe.repr(value)
    except BaseException as exc:  # a C repr may still raise (a recursive structure, a divergence)
        return f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 3] + "..."


def evaluate(code, frame) -> str:
    """The text of ``code``'s value in ``frame``, or UNSET when it cannot be evaluated."""
    try:
        with bypass():
            value = eval(code, frame.f_globals, frame.f_locals)
    except BaseException:
        return UNSET
    return value_text(value)


def store_lines(code, name: str) -> list[int] | None:
    """The lines of ``code`` that bind or unbind the local ``name``, or None when it is
    not a plain local (a global, or a cell an inner function can change)."""
    key = (code, name)
    if key not in _store_lines:
        lines = None
        if name in code.co_varnames and name not in code.co_cellvars and name not in code.co_freevars:
            lines = sorted({instruction.positions.lineno for instruction in dis.get_instructions(code)
                            if instruction.opname.startswith(_STORES) and instruction.positions.lineno is not None
                            and name in (instruction.argval if isinstance(instruction.argval, tuple)
                                         else (instruction.argval,))})
        _store_lines[key] = lines
    return _store_lines[key]


def _unchanging(frame, name: str) -> bool:
    """Does the local ``name`` hold a value that changes only when the name is stored?"""
    try:
        locals_now = frame.f_locals
    except BaseException:
        return False
    return name not in locals_now or type(locals_now[name]) in _UNCHANGING


def compiled(text: str | None):
    if not text:
        return None
    try:
        return compile(text, "<watch>", "eval")
    except SyntaxError:
        return None


class Entry:
    """One watched expression and what was seen of it in this run."""

    __slots__ = ("id", "text", "code", "condition", "depth", "function", "frame", "value", "seen",
                 "began", "boundary", "first", "first_value", "changes", "calls", "live_at_start",
                 "stores", "first_steady")

    def __init__(self, entry: list) -> None:
        self.id, self.text, condition, self.depth, function = entry
        self.code = compiled(self.text)
        self.condition = compiled(condition)
        self.function = tuple(function) if function else None  # (file, name, first line or None): every call
        self.frame = None  # the call's frame, while it runs
        self.value = UNSET
        self.seen: tuple[int, int] | None = None  # (position, line) of the last line seen in the call
        self.began = False  # the call began in this run (we saw it start)
        self.boundary = False  # we saw a line outside any call of it in this run
        self.first: int | None = None  # the position of the call's first line seen in this run
        self.first_value = UNSET  # and the value there
        self.changes: list[list] = []  # [changed at, line, seen at, old, new, call]
        self.calls = 0
        self.live_at_start = False
        self.stores: list | None = None  # [file, lines that store it] when a plain local
        self.first_steady = False  # at `first`, it held a value only a store can change

    def local_stores(self, frame) -> list[int] | None:
        """The lines of ``frame``'s code that store this watch, when it is a plain local
        name there; else None."""
        return store_lines(frame.f_code, self.text) if self.text.isidentifier() else None

    def steady(self, frame) -> bool:
        """A plain local holding a value only a store can change?"""
        return self.local_stores(frame) is not None and _unchanging(frame, self.text)

    def matches(self, frame, depth: int) -> bool:
        if self.function is not None:
            code = frame.f_code
            file, name, first_line = self.function
            return code.co_filename == file and code.co_name == name and first_line in (None, code.co_firstlineno)
        return depth == self.depth

    def holds(self, frame) -> bool:
        if self.condition is None:
            return True
        try:
            with bypass():
                return bool(eval(self.condition, frame.f_globals, frame.f_locals))
        except BaseException:
            return False  # a watch condition that fails does not stop (unlike a breakpoint's)


class Watcher:
    """The watches of one run (a :class:`~retrace_core.control.messages.Watch`)."""

    def __init__(self, watch, thread_ident: int | None) -> None:
        self.mode = watch.mode
        self.thread_ident = thread_ident
        self.entries = [Entry(list(entry)) for entry in watch.entries]
        self.hits: list[list] = []  # log mode: [position, line, value, entry id]
        self.stop: dict | None = None

    def step_depth(self) -> int | None:
        """The depth the tracer must stop at or above; None: every line of the thread."""
        if any(entry.function is not None for entry in self.entries):
            return None
        return max(entry.depth for entry in self.entries)

    def store_filter(self) -> tuple[object, list[int]] | None:
        """(frame, lines) when each watch is a plain local name of the one call being
        followed and holds a value that changes only when stored: the tracer need stop in
        that frame only at ``lines``, which store them, and the line after each. None: at
        every line."""
        if self.mode == "log" or not self.entries or self.entries[0].frame is None:
            return None
        frame = self.entries[0].frame
        lines: set[int] = set()
        for entry in self.entries:
            if entry.frame is not frame or entry.function is not None or not entry.steady(frame):
                return None
            lines.update(entry.local_stores(frame))
        return frame, sorted(lines)

    def start(self, position: int, stop_depth: int, frames: list) -> None:
        """Stop mode, before running on: the values now, in the calls that are live
        (``frames``: the stop's program frames, innermost first)."""
        for entry in self.entries:
            index = stop_depth - entry.depth
            if entry.function is None and 0 <= index < len(frames):
                frame = frames[index]
                entry.frame, entry.value, entry.live_at_start = frame, evaluate(entry.code, frame), True
                entry.seen = (position, frame.f_lineno)

    def observe(self, reason: str, frame, position: int, depth: int, ident: int) -> str | None:
        """A line the tracer stopped at: "watch" or "watch-scope" when the run stops
        here for a watch, else None."""
        if self.mode == "log":
            if reason == "breakpoint":
                line = frame.f_lineno
                self.hits.extend([position, line, evaluate(entry.code, frame), entry.id] for entry in self.entries)
            return None
        if self.thread_ident is not None and ident != self.thread_ident:
            return None
        for entry in self.entries:
            found = self._observe_entry(entry, frame, position, depth)
            if found is not None:
                return found
        return None

    def _observe_entry(self, entry: Entry, frame, position: int, depth: int) -> str | None:
        line = frame.f_lineno
        if not entry.matches(frame, depth):
            if entry.function is None and depth < entry.depth:
                return self._left(entry)
            return None
        if frame is not entry.frame:  # another call than the one we followed
            if entry.frame is not None and self.mode == "stop" and entry.live_at_start:
                return self._left(entry)
            entry.began = entry.boundary or entry.frame is not None
            entry.frame, entry.first, entry.calls = frame, position, entry.calls + 1
            entry.value = entry.first_value = evaluate(entry.code, frame)
            lines = entry.local_stores(frame)
            entry.stores = None if lines is None else [frame.f_code.co_filename, lines]
            entry.first_steady = entry.steady(frame)
            entry.seen = (position, line)
            if entry.function is None:
                entry.changes = []  # the changes of the last call are the ones asked for
            if entry.began and entry.value != UNSET and self.mode == "collect":
                entry.changes.append([position, line, position, UNSET, entry.value, entry.calls])
            return None
        new = evaluate(entry.code, frame)
        old = entry.value
        changed_at, changed_line = entry.seen
        entry.value, entry.seen = new, (position, line)
        if new == old or not entry.holds(frame):
            return None
        entry.changes.append([changed_at, changed_line, position, old, new, entry.calls])
        if self.mode == "stop":
            self.stop = {"id": entry.id, "expression": entry.text, "old": old, "new": new,
                         "line": changed_line, "changed_at": changed_at}
            return "watch"
        return None

    def _left(self, entry: Entry) -> str | None:
        """A line outside the followed call: it has returned."""
        was_live = entry.frame is not None
        entry.frame, entry.boundary = None, True
        if was_live and self.mode == "stop" and entry.live_at_start:
            self.stop = {"id": entry.id, "expression": entry.text, "ended": True}
            return "watch-scope"
        return None

    def report(self) -> dict:
        return {"stop": self.stop, "hits": self.hits,
                "entries": [{"id": entry.id, "changes": entry.changes, "first": entry.first,
                             "first_value": entry.first_value, "value": entry.value, "seen": entry.seen,
                             "began": entry.began, "live": entry.frame is not None, "calls": entry.calls,
                             "stores": entry.stores, "steady": entry.first_steady}
                            for entry in self.entries]}

    def release(self) -> None:
        """Let go of the frames: the program runs on without us keeping its locals alive."""
        for entry in self.entries:
            entry.frame = None
