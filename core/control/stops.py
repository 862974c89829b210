"""Where a session stands after a move, and the move a user cancelled."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from retrace_core.control.workers import EngineError


class Cancelled(EngineError):
    """The move was cancelled (`Session.cancel`); the session stands where it stood."""


@dataclass
class Stop:
    """Where the active worker stands."""

    position: int
    event: int
    reason: str
    thread: int = 0
    depth: int = 0
    file: str | None = None
    line: int | None = None
    function: str | None = None
    finished: bool = False
    watch: dict | None = None  # a stop for a watch: id, expression, old, new, line (see Session.watch)
    returned: dict | None = None  # after next/finish over a call: function, repr, type of its return value


class NotIndexed(EngineError):
    """A verb that needs the index, asked of a first look before the run is indexed."""


def indexed_only(verb):
    """A Session verb that needs the indexing pass: the positions of events, the tests,
    the line map. A first look (first_look.py) has none of them yet."""

    @functools.wraps(verb)
    def checked(session, *args, **kwargs):
        if not session.indexed:
            raise NotIndexed(f"{verb.__name__.replace('_', ' ')}: the run is still being indexed")
        return verb(session, *args, **kwargs)

    return checked
