"""The decoded tape, out of the garbage collector's sight (csrc/untrack.c says why)."""
from __future__ import annotations

from retrace_core._engine import ffi, lib


def out_of_collectors_sight(objects: list) -> list:
    """``objects`` (a decoded tape), its lists, tuples and dicts untracked by the garbage
    collector: alive to the end and in no cycle, they would only be written into by every
    full collection, and each snapshot would keep a copy of every page of them."""
    lib.rt_untrack_containers(ffi.cast("void *", id(objects)))
    return objects
