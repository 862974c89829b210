"""Sockets: every system-level call of a ``socket.socket`` is an event.

``socket.socket`` is a Python subclass of the C ``_socket.socket``, so its methods are
replaced on the class and every socket the program holds stays a real
``socket.socket``. Each method's event starts its arguments with the socket's fd.

Calls that make a socket (the constructor, ``accept``, ``socketpair``) keep the new
socket's *facts* ``[fd, family, type, proto, timeout]``, so a replay can build a
stand-in for it with nothing behind it. Reads keep their bytes, because a replay must
serve them with the peer gone; ``recv_into`` and ``recvfrom_into`` keep the bytes that
landed in the buffer in place of their count (the count is their length). Writes keep
only length and CRC (see :func:`sent`). ``fileno()`` and ``gettimeout()`` only read the
object's own state and are not events.

Replaying sockets is not built yet: in a replay these calls stop it with a divergence
that says so (see ``replay_pending``).
"""
from __future__ import annotations

import _socket
from binascii import crc32

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.replay_pending import not_replayed
from retrace_core.boundary.wrappers import Headers, call_arguments, copy_identity, non_binding

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True

_fileno = _socket.socket.fileno  # the C method: never recorded, -1 once closed
_family = _socket.socket.family.__get__
_type = _socket.socket.type.__get__
_proto = _socket.socket.proto.__get__
_gettimeout = _socket.socket.gettimeout


def facts(sock) -> list:
    """What a replay needs to stand in for ``sock``: [fd, family, type, proto, timeout]."""
    return [_fileno(sock), _family(sock), _type(sock), _proto(sock), _gettimeout(sock)]


def sent(data) -> list | None:
    """What the tape keeps of bytes sent: [length, CRC-32].

    Not the bytes: a replay does not send, it only checks that the program would have
    sent the same, and the replayed program recomputes the bytes itself, so the
    debugger can show them from there. Keeping them would also put whatever the
    program sends (passwords to a database, Authorization headers) into an artifact
    that gets shared. None when ``data`` is not a buffer: the real call raises for it.
    """
    try:
        view = memoryview(data)
        return [view.nbytes, crc32(view)]
    except (TypeError, ValueError, BufferError):
        return None


def _real_method(entry, original):
    # The patcher passes None for methods that socket.socket inherits from the C type.
    return original if original is not None else getattr(_socket.socket, entry.name.rpartition(".")[2])


def _not_replayed_method(entry, original, player):
    return not_replayed(entry, _real_method(entry, original), player)


class Method:
    """A method whose arguments and result are kept as they are."""

    @staticmethod
    def record(entry, original, tape):
        real = _real_method(entry, original)
        headers = Headers(tape, entry.qualified_name, True)

        def recorded(self, *args, **kwargs):
            if guard.busy:
                return real(self, *args, **kwargs)
            return record(headers, tape, lambda: real(self, *args, **kwargs),
                          call_arguments((_fileno(self), *args), kwargs))

        return copy_identity(recorded, real)

    replay = staticmethod(_not_replayed_method)


class Write:
    """``send``, ``sendall``, ``sendto``, ``sendmsg``: the data is kept as [length, CRC]."""

    @staticmethod
    def record(entry, original, tape):
        real = _real_method(entry, original)
        headers = Headers(tape, entry.qualified_name, True)
        several_buffers = entry.name.endswith("sendmsg")

        def recorded(self, data, *args, **kwargs):
            if guard.busy:
                return real(self, data, *args, **kwargs)
            if several_buffers:
                data = list(data)  # an iterator must reach the real call whole
                shown = [sent(buffer) for buffer in data]
            else:
                shown = sent(data)
            return record(headers, tape, lambda: real(self, data, *args, **kwargs),
                          call_arguments((_fileno(self), shown, *args), kwargs))

        return copy_identity(recorded, real)

    replay = staticmethod(_not_replayed_method)


class ReadInto:
    """``recv_into`` / ``recvfrom_into``: the bytes received are kept in place of the count."""

    @staticmethod
    def record(entry, original, tape):
        real = _real_method(entry, original)
        headers = Headers(tape, entry.qualified_name, True)
        with_address = entry.name.endswith("recvfrom_into")

        def recorded(self, buffer, *args, **kwargs):
            if guard.busy:
                return real(self, buffer, *args, **kwargs)
            try:
                view = memoryview(buffer).cast("B")
            except (TypeError, ValueError, BufferError):
                # Not a contiguous buffer: the real call raises, and that is the event.
                return record(headers, tape, lambda: real(self, buffer, *args, **kwargs),
                              call_arguments((_fileno(self), None, *args), kwargs))
            if with_address:
                keep = lambda result: (bytes(view[:result[0]]), result[1])  # noqa: E731
            else:
                keep = lambda count: bytes(view[:count])  # noqa: E731
            return record(headers, tape, lambda: real(self, view, *args, **kwargs),
                          call_arguments((_fileno(self), view.nbytes, *args), kwargs), keep)

        return copy_identity(recorded, real)

    replay = staticmethod(_not_replayed_method)


class Create:
    """``socket.socket.__init__``: event ``socket.socket(family, type, proto, fileno) -> facts``."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, "socket.socket", True)

        def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
            if guard.busy:
                return original(self, family, type, proto, fileno)
            record(headers, tape, lambda: original(self, family, type, proto, fileno),
                   (family, type, proto, fileno), lambda _: facts(self))

        return copy_identity(__init__, original)

    replay = staticmethod(not_replayed)


class Accept:
    """``accept``: event ``(fd) -> [facts of the new socket, peer address]``.

    The new socket is built by the real ``accept`` (a real ``socket.socket``, so its
    own calls are events); building it is part of this one event.
    """

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)

        def accept(self):
            if guard.busy:
                return original(self)
            return record(headers, tape, lambda: original(self), (_fileno(self),),
                          lambda pair: [facts(pair[0]), pair[1]])

        return copy_identity(accept, original)

    replay = staticmethod(not_replayed)


class Close:
    """``_real_close``, where a socket's fd is really closed: event ``socket.socket.close(fd)``.

    ``close()`` itself only closes when no ``makefile()`` object still uses the socket.
    """

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, "socket.socket.close", True)

        def _real_close(self, _ss=_socket.socket):
            if guard.busy:
                return original(self, _ss)
            return record(headers, tape, lambda: original(self, _ss), (_fileno(self),))

        return copy_identity(_real_close, original)

    replay = staticmethod(not_replayed)


class Socketpair:
    """``socket.socketpair``: event ``(arguments) -> [facts, facts]``."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)

        def recorded_socketpair(*args, **kwargs):
            if guard.busy:
                return original(*args, **kwargs)
            return record(headers, tape, lambda: original(*args, **kwargs), call_arguments(args, kwargs),
                          lambda pair: [facts(pair[0]), facts(pair[1])])

        return non_binding(copy_identity(recorded_socketpair, original))

    replay = staticmethod(not_replayed)
