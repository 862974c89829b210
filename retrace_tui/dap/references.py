"""The numbers DAP hands out for things that live only while the program is stopped.

A client asks for a stack frame by ``frameId`` and for a value's children by
``variablesReference``; both name something at *this* stop (a thread's frame, a path of
names from a local down into its children). `StopReferences` gives those numbers out
and forgets them all when the run moves (`reset`), so a stale number from an earlier
stop is an error, not a look at the wrong frame. Source references (recorded files
that are not on this disk) are kept for the whole session instead.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FrameRef:
    """Frame ``index`` (0: innermost) of engine thread ``thread`` at the current stop."""

    thread: int
    index: int


@dataclass(frozen=True)
class ValueRef:
    """The children of a value: ``path`` is a local's name then child names (empty: the
    frame's locals themselves); ``expression`` is the path as Python, when it has one."""

    frame: FrameRef
    path: tuple[str, ...]
    expression: str | None
    kind: str = "object"  # the value's kind: dict children are keys, sequences [i], objects .name


class StopReferences:
    """frameId and variablesReference numbers, valid until the next move."""

    def __init__(self) -> None:
        self._frames: dict[int, FrameRef] = {}
        self._frame_ids: dict[FrameRef, int] = {}
        self._values: dict[int, ValueRef] = {}
        self._value_ids: dict[ValueRef, int] = {}
        self._next = 1  # never reused within a session, so an old number never names a new thing
        self.generation = 0

    def reset(self) -> None:
        self._frames.clear()
        self._frame_ids.clear()
        self._values.clear()
        self._value_ids.clear()
        self.generation += 1

    def _number(self) -> int:
        number = self._next
        self._next += 1
        return number

    def frame_id(self, thread: int, index: int) -> int:
        ref = FrameRef(thread, index)
        if ref not in self._frame_ids:
            number = self._number()
            self._frame_ids[ref], self._frames[number] = number, ref
        return self._frame_ids[ref]

    def frame(self, frame_id: int) -> FrameRef:
        ref = self._frames.get(frame_id)
        if ref is None:
            raise LookupError(f"no frame {frame_id} at this stop (frame ids change at every move)")
        return ref

    def value_id(self, ref: ValueRef) -> int:
        if ref not in self._value_ids:
            number = self._number()
            self._value_ids[ref], self._values[number] = number, ref
        return self._value_ids[ref]

    def value(self, reference: int) -> ValueRef:
        ref = self._values.get(reference)
        if ref is None:
            raise LookupError(f"no variables reference {reference} at this stop "
                              f"(references change at every move)")
        return ref


def child_expression(parent: str | None, kind: str, name: str) -> str | None:
    """The Python expression of a child shown as ``name`` under ``parent``."""
    if parent is None:
        return None
    if name.startswith("[") and name.endswith("]"):
        return f"{parent}{name}"
    if kind == "dict":
        return f"{parent}[{name}]"
    return f"{parent}.{name}" if name.isidentifier() else None


class SourceReferences:
    """``sourceReference`` numbers for recorded files that are not on this disk; kept
    for the whole session (a source stays the same whatever the position)."""

    def __init__(self) -> None:
        self._by_path: dict[str, int] = {}
        self._paths: dict[int, str] = {}

    def reference(self, path: str) -> int:
        if path not in self._by_path:
            number = len(self._by_path) + 1
            self._by_path[path], self._paths[number] = number, path
        return self._by_path[path]

    def path(self, reference: int) -> str:
        path = self._paths.get(reference)
        if path is None:
            raise LookupError(f"no source reference {reference}")
        return path
