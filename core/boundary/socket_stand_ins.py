"""The sockets a replayed program holds: real ``socket.socket`` objects with nothing behind them.

A stand-in is built from a recorded socket's facts ``[fd, family, type, proto, timeout]``.
It is a genuine ``socket.socket`` (``isinstance``, ``makefile`` and ``selectors`` need
one) whose C object owns one harmless fd: an unbound, unconnected ``AF_UNIX`` socket,
which names no file and reaches no peer. That fd is moved onto the recorded number
when the number is free, so ``fileno()`` is the recorded fd and C code that looks
behind the number finds an open socket. When the number is taken (by a file the
replay keeps open where the recording had closed it), the stand-in keeps its own fd
and ``fileno()`` still answers the recorded number.

``family``, ``type``, ``proto`` and the timeout are the C object's own, set from the
facts, so their getters, ``gettimeout()``, ``getblocking()`` and ``__repr__`` read as
they did when recorded. Every method that would reach the network is answered from
the tape by the wrappers in ``sockets``; closing a stand-in closes its harmless fd.
"""
from __future__ import annotations

import _socket
import posix
import sys

from retrace_core.boundary.fd_numbers import place_on

_fileno = _socket.socket.fileno  # the C method: the fd the object owns, -1 once closed
_close = _socket.socket.close
_init = _socket.socket.__init__
_settimeout = _socket.socket.settimeout

# posix's functions are never patched (only os's attributes are): our own fd work uses them.
_real_close = posix.close

# Stand-ins that could not take their recorded number: id(socket) -> (a weak reference to
# it, the recorded fd). Keyed by id, never by the socket: a socket is the program's object,
# and hashing it here first (a WeakKeyDictionary's frames are the standard library's, not
# ours) took one of the program's stable-hash numbers in the replay only: every set of
# objects the program made after it iterated otherwise than recorded (trio's tasks woke in
# another order after a stand-in's fileno()).
_moved: dict[int, tuple] = {}


def recorded_fd(sock) -> int:
    """The fd the recorded program saw for ``sock`` (-1 once it is closed or detached)."""
    fd = _fileno(sock)
    if _moved and fd != -1:
        entry = _moved.get(id(sock))
        if entry is not None and entry[0]() is sock:
            return entry[1]
    return fd


def fileno(self) -> int:
    """``socket.socket.fileno`` in replay: the recorded fd. Not an event, as when recording."""
    return recorded_fd(self)


def become_stand_in(sock, facts: list) -> None:
    """Initialise the fresh ``socket.socket`` ``sock`` as the recorded socket ``facts``."""
    fd, family, kind, proto, timeout = facts
    harmless = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    owned = place_on(harmless.detach(), fd)
    try:
        _init(sock, family, kind, proto, owned)
    except BaseException:
        _real_close(owned)
        raise
    sock._io_refs = 0
    sock._closed = False
    _settimeout(sock, timeout)
    if owned != fd:
        _remember_moved(sock, fd)


def new_stand_in(facts: list):
    """A new ``socket.socket`` for a socket the recorded call made (``accept``, ``socketpair``)."""
    cls = sys.modules["socket"].socket
    sock = cls.__new__(cls)
    become_stand_in(sock, facts)
    return sock


def release(sock) -> None:
    """Close the stand-in's harmless fd (its recorded close or detach has been answered)."""
    if _moved:
        _moved.pop(id(sock), None)
    _close(sock)


def _remember_moved(sock, fd: int) -> None:
    import weakref

    key = id(sock)

    def forget(reference) -> None:  # the socket is gone: its id may be another's next
        if _moved.get(key, (None,))[0] is reference:
            del _moved[key]

    _moved[key] = (weakref.ref(sock, forget), fd)
