"""Just my code: stepping that does not stop in library code, and the stack folded.

A step (`s`, `n`, `f` and their backward twins) that ends in library code (pytest,
pluggy, an installed package: see `retrace_core.control.user_code`) goes on to the
next (or previous) line of the user's code. That is one more engine run, not a step
at a time: a run with a breakpoint on every line of the user's files stops at the first
of them to execute, in the C tracer, which checks a file's breakpoints only for code
objects of files that have any. The user's files are those the recording stored the
text of (every project module it ran), which the rule accepts.
"""
from __future__ import annotations

import os
import types

from retrace_core.control.session import Session, Stop
from retrace_core.control.user_code import UserCode

FORWARD = ("next", "step_into", "finish")
BACKWARD = ("back", "back_into", "back_finish")


def executable_lines(path: str, text: str | bytes) -> list[int]:
    """The lines of a source that have code (every line when it does not compile here)."""
    try:
        code = compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return list(range(1, (text.count(b"\n" if isinstance(text, bytes) else "\n")) + 2))
    lines: set[int] = set()
    pending = [code]
    while pending:
        current = pending.pop()
        lines.update(line for _start, _end, line in current.co_lines() if line is not None)
        pending.extend(const for const in current.co_consts if isinstance(const, types.CodeType))
    return sorted(lines)


class UserSteps:
    """Moves a `Session` on past library code, and folds library frames of a stack."""

    def __init__(self, session: Session, sources: dict[str, str | bytes], enabled: bool = True) -> None:
        self.session = session
        self.rule = UserCode.from_header(session.tape.process)
        self.enabled = enabled
        self._sources = sources
        self._lines: list[tuple[str, int, None]] | None = None

    def is_users(self, file: str | None) -> bool:
        return self.rule.is_users(file)

    def user_lines(self) -> list[tuple[str, int, None]]:
        """A breakpoint (file, line, no condition) on every line of the user's code."""
        if self._lines is None:
            self._lines = [(path, line, None) for path, text in sorted(self._sources.items())
                           if self.rule.is_users(path) for line in executable_lines(path, text)]
        return self._lines

    def past_library(self, verb: str, stop: Stop) -> tuple[Stop, bool]:
        """After ``verb`` stopped at ``stop``: when that is library code and the verb is a
        step, run on (or back) to the nearest line of the user's code. Returns the stop
        and whether library code was skipped."""
        if not self.enabled or stop.finished or self.is_users(stop.file) or not self.user_lines():
            return stop, False
        if verb not in FORWARD and verb not in BACKWARD:
            return stop, False
        session = self.session
        # Only the user's lines: neither the user's breakpoints nor watches stop this run.
        watchlist = getattr(session, "watchlist", None)
        watches = watchlist.watches if watchlist is not None else None
        kept, session.breakpoints = session.breakpoints, list(self.user_lines())
        if watchlist is not None:
            watchlist.watches = {}
        try:
            stop = session.continue_() if verb in FORWARD else session.reverse_continue()
        finally:
            session.breakpoints = kept
            if watchlist is not None:
                watchlist.watches = watches
        if stop.reason != "look-start":  # (a first look's start: no user line before it there)
            stop.reason = "step"  # the lines were ours, not the user's breakpoints
        return stop, True

    def fold(self, frames: list[dict], selected: int) -> list[tuple[int, int, bool]]:
        """The stack as rows (first, last, folded): one frame, or a run of library frames
        folded into one row. The selected frame is never folded away."""
        rows: list[tuple[int, int, bool]] = []
        index = 0
        while index < len(frames):
            if not self.enabled or self.is_users(frames[index]["file"]) or index == selected:
                rows.append((index, index, False))
                index += 1
                continue
            last = index
            while last + 1 < len(frames) and not self.is_users(frames[last + 1]["file"]) and last + 1 != selected:
                last += 1
            rows.append((index, last, True))
            index = last + 1
        return rows


def library_names(frames: list[dict]) -> list[str]:
    """The top-level packages of some library frames, in order of first appearance:
    ``pytest, pluggy`` for ``.../site-packages/_pytest/python.py``."""
    names: list[str] = []
    for frame in frames:
        parts = os.path.normpath(frame["file"]).split(os.sep)
        name = next((parts[i + 1] for i in range(len(parts) - 2, -1, -1)
                     if parts[i] in ("site-packages", "dist-packages")), None)
        if name is None:
            name = "stdlib" if not frame["file"].startswith("<") else frame["file"].strip("<>").split()[0]
        name = name.removesuffix(".py").lstrip("_")
        if name not in names:
            names.append(name)
    return names
