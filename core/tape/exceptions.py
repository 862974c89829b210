"""Exceptions on the tape: described when recorded, rebuilt when replayed."""
from __future__ import annotations

import builtins
import sys

# Modules whose exception classes a replay may rebuild by name.
_EXCEPTION_MODULES = frozenset({"builtins", "socket", "select", "subprocess", "ssl", "json", "zipfile",
                                "shutil", "tempfile", "uuid", "datetime", "time", "os", "io", "_io",
                                "concurrent.futures._base", "asyncio.exceptions", "http.client", "urllib.error",
                                "sqlite3", "OpenSSL.SSL", "termios", "signal"})
# Attributes that ssl and sqlite3 set on their exceptions besides the arguments.
_ATTRIBUTES = ("library", "reason", "verify_code", "verify_message", "sqlite_errorcode", "sqlite_errorname")


def describe_exception(exc: BaseException) -> list:
    """The payload of a RAISED event: enough to raise an equal exception in replay."""
    cls = type(exc)
    extra = {}
    if isinstance(exc, OSError):
        extra = {"errno": exc.errno, "strerror": exc.strerror, "filename": exc.filename,
                 "filename2": exc.filename2}
    attributes = getattr(exc, "__dict__", None)
    if attributes:
        for name in _ATTRIBUTES:
            if name in attributes:
                extra[name] = attributes[name]
    return [cls.__module__, cls.__qualname__, list(exc.args), extra]


def rebuild_exception(description: list) -> BaseException:
    """An exception equal to the recorded one (same class, args, errno, filenames)."""
    module_name, qualname, arguments, extra = description
    cls = None
    if module_name in _EXCEPTION_MODULES:
        owner = builtins if module_name == "builtins" else sys.modules.get(module_name)
        if owner is None:
            try:
                owner = __import__(module_name, fromlist=["_"])
            except ImportError:
                owner = None
        module = owner
        for part in qualname.split("."):
            owner = getattr(owner, part, None)
        if owner is None and module is not None:
            # A C class exported under another name than its own (signal.ItimerError is
            # "itimer_error"): found by its name among the module's classes.
            owner = next((value for value in vars(module).values()
                          if isinstance(value, type) and value.__qualname__ == qualname), None)
        if isinstance(owner, type) and issubclass(owner, BaseException):
            cls = owner
    if cls is None:
        cls = OSError if "errno" in extra else RuntimeError
        arguments = [f"{module_name}.{qualname}: {arguments}"] if "errno" not in extra else arguments
    exc = _rebuilt(cls, arguments, extra)
    for name in _ATTRIBUTES:
        if name in extra:
            try:
                setattr(exc, name, extra[name])
            except (AttributeError, TypeError):
                pass
    return exc


def _rebuilt(cls: type, arguments: list, extra: dict) -> BaseException:
    if extra and issubclass(cls, OSError) and extra.get("errno") is not None:
        exc = cls(extra["errno"], extra["strerror"], extra["filename"], None, extra["filename2"]) \
            if extra.get("filename2") is not None else (
            cls(extra["errno"], extra["strerror"], extra["filename"]) if extra.get("filename") is not None
            else cls(extra["errno"], extra["strerror"]))
        return exc
    try:
        return cls(*arguments)
    except Exception:
        return cls()
