"""Files mapped into memory (``mmap.mmap`` of a descriptor): what the program reads
from the mapping is the file's content when it was mapped, which no call returns.

multiprocessing keeps its shared values, arrays and heap in a mapped file (``Value``,
``Array``, ``multiprocessing.heap.Arena``); a replay, whose descriptors are not open,
could not map it: ``mmap`` raised there and the program took another path.

Recording, mapping a descriptor is an event whose result is the mapped bytes and the
file's size. Replaying, those bytes are mapped from a memory file made for them
(``memfd_create``) with the length, flags, protection, access and offset asked for, so
reads, writes, ``size()``, ``find()`` and buffers over the mapping behave as they did.
An anonymous mapping (descriptor -1) has no outside and is not recorded.

Not recorded: what changes the file under a shared mapping while it is mapped, another
process (a ``Value`` that a forked child changes) or this one writing to the file itself:
a replay reads what this process wrote through the mapping. A large mapping costs its
size on the tape.
"""
from __future__ import annotations

import posix  # the unpatched calls: making the replay's memory file must not be an event

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, call_arguments, copy_identity

__tracebackhide__ = True

MAP = "mmap.mmap"


def _fileno(args: tuple, kwargs: dict) -> int:
    return args[0] if args else kwargs.get("fileno", -1)


def _offset(args: tuple, kwargs: dict) -> int:
    return args[5] if len(args) > 5 else kwargs.get("offset", 0)


def _contents(mapped) -> tuple[bytes, int]:
    """The mapped bytes, and the size of the file under them."""
    return mapped[:], mapped.size()


class MappedFile:
    """``mmap.mmap``: the type, replaced by a subclass whose mappings of a descriptor are events."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, MAP, True)
        real = original

        class mmap(real):  # noqa: N801 - the name the program knows
            __slots__ = ()

            def __new__(cls, *args, **kwargs):
                if guard.busy or _fileno(args, kwargs) == -1:
                    return real.__new__(cls, *args, **kwargs)
                made = []
                record(headers, tape, lambda: made.append(real.__new__(cls, *args, **kwargs)),
                       call_arguments(args, kwargs), lambda _: _contents(made[0]))
                return made[0]

        return copy_identity(mmap, real)

    @staticmethod
    def replay(entry, original, player):
        answer = player.answer
        real = original

        class mmap(real):  # noqa: N801
            __slots__ = ()

            def __new__(cls, *args, **kwargs):
                if guard.busy or _fileno(args, kwargs) == -1:
                    return real.__new__(cls, *args, **kwargs)
                content, size = answer(MAP, call_arguments(args, kwargs))
                memory = posix.memfd_create("retrace-mapped-file", posix.MFD_CLOEXEC)
                try:
                    posix.ftruncate(memory, size)
                    posix.pwrite(memory, content, _offset(args, kwargs))
                    if args:
                        return real.__new__(cls, memory, *args[1:], **kwargs)
                    return real.__new__(cls, **{**kwargs, "fileno": memory})
                finally:
                    posix.close(memory)

        return copy_identity(mmap, real)
