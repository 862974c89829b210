"""What the debugger remembers of a recording between sessions: breakpoints,
bookmarks, watches and logpoints.

One small JSON file per recorded process, in the XDG state folder
(``$XDG_STATE_HOME/retrace-tui/``, else ``~/.local/state/retrace-tui/``), named by the
recording's id. The id is a hash of what makes a recording itself (when and where it
started, its command line, the process), not of its path: a recording moved or copied
keeps its breakpoints, and a new recording to the same path starts afresh. A file that
cannot be read or written is ignored: remembering is a convenience, never a reason for
the debugger to fail.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field

from retrace_core.tape.recording import Recording


@dataclass
class SavedState:
    """What a user set up on one recording, saved when the TUI quits and restored when the
    same recording (by its id) is opened again."""

    breakpoints: list[list] = field(default_factory=list)  # [file, line, condition or None]
    bookmarks: list[dict] = field(default_factory=list)  # {"name", "position"}
    # {"expression", "condition", "file", "function"}: where it was set, so that it is set
    # again at the first stop in that function (file and function None: an old file's
    # bare expression, only offered again by w)
    watches: list[dict] = field(default_factory=list)
    logpoints: list[list] = field(default_factory=list)  # [file, line, expression]


def state_folder() -> str:
    base = os.environ.get("XDG_STATE_HOME")
    if not base or not os.path.isabs(base):  # the XDG rule: a relative value is ignored
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "retrace-tui")


def recording_id(recording: str, pid: int) -> str:
    """A recording's identity: its start time, working folder and command line (from the
    index), and the process."""
    with Recording(recording) as opened:
        index = opened.index
    identity = [index.get("start"), index.get("cwd"), index.get("program") or index.get("argv"), pid]
    return hashlib.sha256(json.dumps(identity, default=str).encode()).hexdigest()[:24]


def state_path(recording: str, pid: int) -> str:
    return os.path.join(state_folder(), f"{recording_id(recording, pid)}.json")


def load(path: str) -> SavedState:
    """The state saved at ``path``; an empty one when there is none or it is unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return SavedState(
            breakpoints=[[str(file), int(line), None if condition is None else str(condition)]
                         for file, line, condition in data.get("breakpoints", [])],
            bookmarks=[{"name": str(mark["name"]), "position": int(mark["position"])}
                       for mark in data.get("bookmarks", [])],
            watches=[_watch(saved) for saved in data.get("watches", [])],
            logpoints=[[str(file), int(line), str(expression)] for file, line, expression in data.get("logpoints", [])])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return SavedState()


def _watch(saved) -> dict:
    """A saved watch; a plain string is the older format's (an expression, nothing else)."""
    if isinstance(saved, str):
        saved = {"expression": saved}
    text = {key: saved.get(key) for key in ("condition", "file", "function")}
    return {"expression": str(saved["expression"]), **{key: None if value is None else str(value)
                                                       for key, value in text.items()}}


def same_watch(saved: dict, other: dict) -> bool:
    """``other`` is ``saved``'s expression in the same function, or the older format's
    bare expression of it (which the newer entry replaces)."""
    return other["expression"] == saved["expression"] and (
        other["function"] is None or (other["file"], other["function"]) == (saved["file"], saved["function"]))


def summary(saved: SavedState) -> str | None:
    """What a session on the recording brings back, in a line for the user (None: nothing)."""
    def counted(items: list, name: str, plural: str, how: str) -> str | None:
        return f"{len(items)} {name if len(items) == 1 else plural} ({how})" if items else None

    functions = sorted({f"{watch['function']}()" for watch in saved.watches if watch["function"]})
    parts = [counted(saved.breakpoints, "breakpoint", "breakpoints", "set"),
             counted(saved.bookmarks, "bookmark", "bookmarks", "' lists them"),
             counted([watch for watch in saved.watches if watch["function"]], "watch", "watches",
                     f"set again at the first stop in {', '.join(functions)}"),
             counted(saved.logpoints, "logpoint", "logpoints", "L lists them")]
    parts = [part for part in parts if part]
    return "From the last session: " + ", ".join(parts) if parts else None


def save(path: str, state: SavedState) -> bool:
    """Write ``state`` to ``path`` (owner-only, replaced whole); False when it could not be."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(asdict(state), handle, indent=1)
        os.replace(temporary, path)
        return True
    except OSError:
        return False
