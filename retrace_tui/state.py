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
    watches: list[str] = field(default_factory=list)  # expressions
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
            watches=[str(expression) for expression in data.get("watches", [])],
            logpoints=[[str(file), int(line), str(expression)] for file, line, expression in data.get("logpoints", [])])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return SavedState()


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
