"""Divergence: the replay asked for something other than what the tape holds.

Raised inside the program at the first wrong call, it is reported once (event number,
what the tape expected and where, what the program asked for, the Python stack, the
likely cause) and the worker stops: a replay never goes on after diverging.
"""
from __future__ import annotations

import os

from retrace_core.ours import is_our_file


class NotRecordedHere(OSError):
    """A call made while inspecting a stopped replay (by a repr, an expression) that the
    program never made up to that point: there is no recorded answer. An OSError, as the
    real call's failure would be, so that a repr guarding its calls shows what it can."""


class Divergence(BaseException):
    """BaseException, so that the program's own ``except Exception`` cannot swallow it."""

    def __init__(self, report: dict) -> None:
        super().__init__(report["message"])
        self.report = report


def import_from_stdlib(name: str):
    """Import a standard-library module late (at a divergence), whatever the program put on
    sys.path: a project file named ``token.py`` must not stand in for the stdlib's."""
    import sys

    module = sys.modules.get(name)
    if module is not None:
        return module
    import importlib.machinery

    saved_path, saved_finders = sys.path[:], sys.meta_path[:]
    library = os.path.dirname(os.__file__)
    sys.path[:] = [library, os.path.join(library, "lib-dynload")]
    sys.meta_path[:] = [importlib.machinery.BuiltinImporter, importlib.machinery.FrozenImporter,
                        importlib.machinery.PathFinder]
    try:
        return __import__(name)
    finally:
        sys.path[:], sys.meta_path[:] = saved_path, saved_finders


def program_stack(limit: int = 30) -> list[dict]:
    """The caller's Python stack, innermost last, without retrace's own frames."""
    import sys

    return frames_of(sys._getframe(1), limit)


def frames_of(frame, limit: int = 30) -> list[dict]:
    """The stack that ends at ``frame``, innermost last, without retrace's own frames."""
    # Not imported before patching: a replay imports only what recording imported.
    traceback = import_from_stdlib("traceback")

    frames = []
    for entry in traceback.extract_stack(frame, limit=limit + 20):
        if is_our_file(entry.filename) or entry.filename.startswith("<frozen"):
            continue
        frames.append({"file": entry.filename, "line": entry.lineno, "function": entry.name,
                       "code": entry.line or ""})
    return frames[-limit:]


def make_report(kind: str, number: int, expected: str | None, asked: str | None, causes: list[str],
                stack: list[dict] | None = None) -> dict:
    if kind == "past-end":
        message = f"replay asked for {asked} after the last recorded event ({number - 1})"
    elif kind == "unread":
        message = f"the program ended with events unread: event {number} ({expected}) was never asked for"
    elif kind == "output":
        message = f"event {number}: the program wrote other bytes than recorded"
    elif kind == "unsupported":
        message = f"replay cannot go past {asked}: its I/O is not on the tape"
    elif kind == "stalled":
        message = (f"event {number} ({expected}) was never reached: its thread did not get there "
                   f"while every other thread waited for it")
    elif kind == "lock":
        message = f"event {number}: the recording acquired a lock here that another thread holds in replay"
    elif kind == "exit-status":
        message = f"the program exited with {asked}, the recording with {expected}"
    else:
        message = f"event {number}: the tape expected {expected}, the program asked for {asked}"
    return {"kind": kind, "event": number, "expected": expected, "asked": asked, "message": message,
            "stack": program_stack() if stack is None else stack, "likely_causes": causes}


def format_report(report: dict) -> str:
    """The report as a person reads it."""
    lines = [f"replay diverged: {report['message']}"]
    if report.get("expected"):
        lines.append(f"  expected: {report['expected']}")
    if report.get("asked"):
        lines.append(f"  asked:    {report['asked']}")
    if report.get("stack"):
        lines.append("  stack (most recent call last):")
        for frame in report["stack"]:
            lines.append(f"    {frame['file']}:{frame['line']} in {frame['function']}")
            if frame.get("code"):
                lines.append(f"      {frame['code']}")
    for thread in report.get("threads", []):
        lines.append(f"  thread {thread['thread']} (most recent call last):")
        for frame in thread["stack"]:
            lines.append(f"    {frame['file']}:{frame['line']} in {frame['function']}")
            if frame.get("code"):
                lines.append(f"      {frame['code']}")
    for cause in report.get("likely_causes", []):
        lines.append(f"  likely cause: {cause}")
    return "\n".join(lines)
