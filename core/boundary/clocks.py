"""Clock calls that live on built-in types: ``datetime.now/utcnow/today``, ``date.today``."""
from __future__ import annotations

import datetime as _dt

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, call_arguments, class_method

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True


def _storable(result: object) -> object:
    # A tzinfo of the user's own cannot be stored; replay re-attaches the tz argument.
    tzinfo = getattr(result, "tzinfo", None)
    if tzinfo is not None and type(tzinfo) is not _dt.timezone and type(tzinfo).__name__ != "ZoneInfo":
        return result.replace(tzinfo=None)
    return result


def _as_class(value, cls, args: tuple, kwargs: dict):
    """The recorded value as the class it was asked of, with the caller's own tzinfo."""
    tz = kwargs.get("tz", args[0] if args else None)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None and tz is not None:
            value = value.replace(tzinfo=tz)
        if type(value) is not cls:
            value = cls(value.year, value.month, value.day, value.hour, value.minute, value.second,
                        value.microsecond, value.tzinfo, fold=value.fold)
    elif type(value) is not cls:
        value = cls(value.year, value.month, value.day)
    return value


class DatetimeClassmethod:
    """A classmethod of a C datetime type; ``cls`` may be a user subclass."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)

        def recorded(cls, *args, **kwargs):
            bound = original.__get__(None, cls)
            return record(headers, tape, lambda: bound(*args, **kwargs), call_arguments(args, kwargs), _storable)

        return class_method(_named(recorded, entry), original)

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name

        def replayed(cls, *args, **kwargs):
            if guard.busy:
                return original.__get__(None, cls)(*args, **kwargs)
            return _as_class(player.answer(name, call_arguments(args, kwargs)), cls, args, kwargs)

        return class_method(_named(replayed, entry), original)


def _named(function, entry):
    """Named as the built-in classmethod it replaces (``datetime.now``, module None), for
    where it stays a Python classmethod."""
    function.__name__ = entry.name.rpartition(".")[2]
    function.__qualname__ = entry.name
    function.__module__ = None
    return function
