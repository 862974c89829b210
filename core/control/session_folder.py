"""The controller's temporary folder (``/tmp/retrace-session-<pid>-*``): it holds the
control socket, the worker log and, for a packed recording, a full copy of the tape,
so it must not outlive the session.

Removed when the session closes, at the controller's exit (a session that failed to
start), when the process gets SIGTERM or SIGHUP, and, for a
controller that could not clean up (SIGKILL, a crash), by the next session started on
the machine: the owner's pid is in the folder's name.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import threading
import time

PREFIX = "retrace-session-"
_CLEANED_ON = (signal.SIGTERM, signal.SIGHUP)

_live: set[str] = set()
_lock = threading.RLock()  # re-entered by a signal handler that lands while it is held
_REMOVE_PATIENCE = 2.0  # seconds to keep removing a folder a worker is still writing into
_handlers_installed = False
_creator: int | None = None  # the pid that made session folders here (not its forks, not workers)


def create() -> str:
    """A new owner-only session folder; stale ones of dead owners are removed first."""
    remove_stale()
    _install_handlers()  # first: a signal right after mkdtemp must find the handler there
    global _creator
    _creator = os.getpid()
    with _lock:
        folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
        _live.add(folder)
    return folder


def remove(folder: str) -> None:
    with _lock:
        _live.discard(folder)
    _remove_tree(folder)


def _remove_tree(folder: str) -> None:
    """Remove ``folder`` even while a worker still writes into it (its report, a log
    line): a file made between rmtree's listing and its rmdir leaves the folder there."""
    deadline = time.monotonic() + _REMOVE_PATIENCE
    while True:
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.lexists(folder) or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def remove_stale(parent: str | None = None) -> list[str]:
    """Remove the session folders of this user whose owner process is gone."""
    parent = parent or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        owner = _owner(name)
        path = os.path.join(parent, name)
        if owner is None or owner == os.getpid() or _alive(owner):
            continue
        try:
            if os.lstat(path).st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _owner(name: str) -> int | None:
    if not name.startswith(PREFIX):
        return None
    pid, _, rest = name[len(PREFIX):].partition("-")
    return int(pid) if pid.isdigit() and rest else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _install_handlers() -> None:
    """On SIGTERM and SIGHUP, remove the live folders, then end as the signal would have."""
    global _handlers_installed
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    for signum in _CLEANED_ON:
        previous = signal.getsignal(signum)
        if previous not in (signal.SIG_DFL, None):
            continue  # the program (or Textual) handles it; close() cleans up then
        try:
            signal.signal(signum, _on_signal)
        except (ValueError, OSError):
            continue
    _handlers_installed = True


def _remove_live() -> None:
    if _owner(os.path.basename(next(iter(_live), ""))) not in (None, os.getpid()):
        return  # a forked copy of the controller: the folders are its parent's
    with _lock:
        folders = set(_live) | set(_made_here())
        _live.clear()
    for folder in folders:
        _remove_tree(folder)


def _made_here() -> list[str]:
    """This process's folders in the temporary folder, by the pid in their names: one
    ``mkdtemp`` has made but not yet returned is not in ``_live`` (a signal handler
    runs between two bytecodes, and one landed there under load, leaving the folder)."""
    parent, me = tempfile.gettempdir(), os.getpid()
    if _creator != me:
        return []  # not a controller: nothing of ours to look for (nor a listing to make)
    try:
        return [os.path.join(parent, name) for name in os.listdir(parent) if _owner(name) == me]
    except OSError:
        return []


atexit.register(_remove_live)


def _on_signal(signum, frame) -> None:
    _remove_live()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
