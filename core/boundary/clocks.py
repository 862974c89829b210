"""Clock calls that live on built-in types: ``datetime.now/utcnow/today``, ``date.today``."""
from __future__ import annotations

import datetime as _dt

from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, call_arguments


def _storable(result: object) -> object:
    # A tzinfo of the user's own cannot be stored; replay re-attaches the tz argument.
    tzinfo = getattr(result, "tzinfo", None)
    if tzinfo is not None and type(tzinfo) is not _dt.timezone and type(tzinfo).__name__ != "ZoneInfo":
        return result.replace(tzinfo=None)
    return result


def datetime_classmethod(entry, original, tape):
    """Wrap a classmethod of a C datetime type; ``cls`` may be a user subclass."""
    headers = Headers(tape, entry.qualified_name, True)

    def recorded(cls, *args, **kwargs):
        bound = original.__get__(None, cls)
        return record(headers, tape, lambda: bound(*args, **kwargs),
                      call_arguments(args, kwargs), _storable)

    recorded.__name__ = recorded.__qualname__ = entry.name.rpartition(".")[2]
    return classmethod(recorded)
