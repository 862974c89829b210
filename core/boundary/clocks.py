"""Clock calls that need more than a plain wrapper: ``datetime.now/utcnow/today`` and ``date.today``
(methods of built-in types), and ``time.process_time``, less the recorder's own CPU time."""
from __future__ import annotations

import datetime as _dt
import sys

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, call_arguments, class_method, module_function, replaying_function

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


# 3.12 deprecates utcnow, and its C code warns at the Python frame that called it: our
# wrapper, when recorded (the warning would name our file, and pytest reads that file's
# source to show it), and nothing at all when replayed (the wrapper does not call it). So
# the wrapper raises the warning itself, in both modes, at the program's line, and reads
# the clock through datetime.now, which does not warn.
UTCNOW_DEPRECATED = sys.version_info >= (3, 12)
_REAL_DATETIME = _dt.datetime  # freezegun puts its own class in the module later
UTCNOW_WARNING = ("datetime.datetime.utcnow() is deprecated and scheduled for removal in a future version. "
                  "Use timezone-aware objects to represent datetimes in UTC: datetime.datetime.now(datetime.UTC).")


def _warn_as_utcnow() -> None:
    import warnings

    from retrace_core.ours import OUR_PREFIXES

    warnings.warn(UTCNOW_WARNING, DeprecationWarning, stacklevel=2, skip_file_prefixes=OUR_PREFIXES)


def _utcnow_quietly(cls):
    """What ``cls.utcnow()`` returns, without its warning (datetime.now is patched too:
    inside a recorded call it is the original)."""
    return _as_class(_REAL_DATETIME.now(_dt.timezone.utc).replace(tzinfo=None), cls, (), {})


class DatetimeClassmethod:
    """A classmethod of a C datetime type; ``cls`` may be a user subclass."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)
        warns = UTCNOW_DEPRECATED and entry.name == "datetime.utcnow"

        def recorded(cls, *args, **kwargs):
            if warns and not guard.busy and not args and not kwargs:
                _warn_as_utcnow()
                return record(headers, tape, lambda: _utcnow_quietly(cls), call_arguments(args, kwargs), _storable)
            bound = original.__get__(None, cls)
            return record(headers, tape, lambda: bound(*args, **kwargs), call_arguments(args, kwargs), _storable)

        return class_method(_named(recorded, entry), original)

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name
        warns = UTCNOW_DEPRECATED and entry.name == "datetime.utcnow"

        def replayed(cls, *args, **kwargs):
            if guard.busy:
                return original.__get__(None, cls)(*args, **kwargs)
            if warns and not args and not kwargs:
                _warn_as_utcnow()
            return _as_class(player.answer(name, call_arguments(args, kwargs)), cls, args, kwargs)

        return class_method(_named(replayed, entry), original)


def _named(function, entry):
    """Named as the built-in classmethod it replaces (``datetime.now``, module None), for
    where it stays a Python classmethod."""
    function.__name__ = entry.name.rpartition(".")[2]
    function.__qualname__ = entry.name
    function.__module__ = None
    return function


class ProcessTime:
    """``time.process_time`` and ``process_time_ns``: the process's CPU time less what the
    tape's flusher thread used (tape.flusher.cpu). Unrecorded, a program that sleeps uses
    no CPU; recorded, the flusher's rounds during the sleep counted, and tqdm's suite found
    "cpu time not reliable on this machine" and skipped 7 tests it passed plain."""

    @staticmethod
    def record(entry, original, tape):
        returned, header = tape.returned, Headers(tape, entry.qualified_name, False).returned
        in_ns = entry.name.endswith("_ns")

        def process_time():
            value = original()
            if guard.busy:
                return value
            ours = tape.flusher.cpu
            value -= int(ours * 1_000_000_000) if in_ns else ours
            returned(header, value)
            return value

        return module_function(process_time, original)

    @staticmethod
    def replay(entry, original, player):
        return module_function(replaying_function(original, player, entry.qualified_name, False), original)
