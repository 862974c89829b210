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

In replay nothing reaches the network: the program holds stand-ins (see
``socket_stand_ins``), and each method is answered from the tape. ``settimeout`` and
``setblocking`` are also applied to the stand-in, whose C object keeps the timeout
that ``gettimeout()`` reads.
"""
from __future__ import annotations

import _socket
import sys
from binascii import crc32

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.socket_stand_ins import become_stand_in, fileno, new_stand_in, recorded_fd, release
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


def _detached(sock) -> None:
    sock._closed = True  # as socket.socket.detach does
    release(sock)


# What a replayed method also does to the stand-in itself, after its answer.
_ON_STAND_IN = {"settimeout": _socket.socket.settimeout, "setblocking": _socket.socket.setblocking,
                "detach": _detached}


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

    @staticmethod
    def replay(entry, original, player):
        real = _real_method(entry, original)
        name, answer = entry.qualified_name, player.answer
        also = _ON_STAND_IN.get(entry.name.rpartition(".")[2])

        def replayed(self, *args, **kwargs):
            if guard.busy:
                return real(self, *args, **kwargs)
            result = answer(name, call_arguments((recorded_fd(self), *args), kwargs))
            if also is not None:
                also(self, *args, **kwargs)
            return result

        return copy_identity(replayed, real)


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
            return record(headers, tape, lambda: real(self, data, *args, **kwargs),
                          call_arguments((_fileno(self), _sent_data(data, several_buffers), *args), kwargs))

        return copy_identity(recorded, real)

    @staticmethod
    def replay(entry, original, player):
        real = _real_method(entry, original)
        name, answer = entry.qualified_name, player.answer
        several_buffers = entry.name.endswith("sendmsg")

        def replayed(self, data, *args, **kwargs):
            if guard.busy:
                return real(self, data, *args, **kwargs)
            return answer(name, call_arguments((recorded_fd(self), _sent_data(data, several_buffers), *args),
                                               kwargs))

        return copy_identity(replayed, real)


def _sent_data(data, several_buffers: bool):
    return [sent(buffer) for buffer in data] if several_buffers else sent(data)


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

    @staticmethod
    def replay(entry, original, player):
        real = _real_method(entry, original)
        name, answer = entry.qualified_name, player.answer
        with_address = entry.name.endswith("recvfrom_into")

        def replayed(self, buffer, *args, **kwargs):
            if guard.busy:
                return real(self, buffer, *args, **kwargs)
            fd = recorded_fd(self)
            try:
                view = memoryview(buffer).cast("B")
            except (TypeError, ValueError, BufferError):
                return answer(name, call_arguments((fd, None, *args), kwargs))
            result = answer(name, call_arguments((fd, view.nbytes, *args), kwargs))
            data = result[0] if with_address else result
            view[:len(data)] = data
            return (len(data), result[1]) if with_address else len(data)

        return copy_identity(replayed, real)


class ScatterInto:
    """``recvmsg_into``: event ``(fd, [buffer sizes], ...) -> (bytes received, ancdata, flags, address)``."""

    @staticmethod
    def record(entry, original, tape):
        real = _real_method(entry, original)
        headers = Headers(tape, entry.qualified_name, True)

        def recorded(self, buffers, *args, **kwargs):
            if guard.busy:
                return real(self, buffers, *args, **kwargs)
            buffers = list(buffers)  # an iterator must reach the real call whole
            views = _byte_views(buffers)
            if views is None:  # the real call raises for it, and that is the event
                return record(headers, tape, lambda: real(self, buffers, *args, **kwargs),
                              call_arguments((_fileno(self), None, *args), kwargs))
            keep = lambda result: (b"".join(views)[:result[0]], *result[1:])  # noqa: E731
            return record(headers, tape, lambda: real(self, views, *args, **kwargs),
                          call_arguments((_fileno(self), [view.nbytes for view in views], *args), kwargs), keep)

        return copy_identity(recorded, real)

    @staticmethod
    def replay(entry, original, player):
        real = _real_method(entry, original)
        name, answer = entry.qualified_name, player.answer

        def replayed(self, buffers, *args, **kwargs):
            if guard.busy:
                return real(self, buffers, *args, **kwargs)
            views = _byte_views(list(buffers))
            shown = None if views is None else [view.nbytes for view in views]
            data, *rest = answer(name, call_arguments((recorded_fd(self), shown, *args), kwargs))
            start = 0
            for view in views:
                piece = data[start:start + view.nbytes]
                view[:len(piece)] = piece
                start += len(piece)
            return (len(data), *rest)

        return copy_identity(replayed, real)


def _byte_views(buffers: list) -> list | None:
    try:
        return [memoryview(buffer).cast("B") for buffer in buffers]
    except (TypeError, ValueError, BufferError):
        return None


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

    @staticmethod
    def replay(entry, original, player):
        answer = player.answer

        def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
            if guard.busy:
                return original(self, family, type, proto, fileno)
            become_stand_in(self, answer("socket.socket", (family, type, proto, fileno)))

        # fileno() is no event, but a stand-in must answer the recorded number even when its
        # own fd has another; it is installed with the constructor that makes stand-ins.
        sys.modules["socket"].socket.fileno = fileno
        return copy_identity(__init__, original)


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

    @staticmethod
    def replay(entry, original, player):
        name, answer = entry.qualified_name, player.answer

        def accept(self):
            if guard.busy:
                return original(self)
            new, address = answer(name, (recorded_fd(self),))
            return new_stand_in(new), address

        return copy_identity(accept, original)


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

    @staticmethod
    def replay(entry, original, player):
        def _real_close(self, _ss=_socket.socket):
            if guard.busy:
                return original(self, _ss)
            # The stand-in's fd is let go before the turn passes: the thread whose event is
            # next may open a file on that number, as it did when recorded.
            try:
                raised, _arguments, value = player.take("socket.socket.close", (recorded_fd(self),))
            finally:
                release(self)
            player.pass_turn()
            return player.result(raised, value)

        return copy_identity(_real_close, original)


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

    @staticmethod
    def replay(entry, original, player):
        name, answer = entry.qualified_name, player.answer

        def replayed_socketpair(*args, **kwargs):
            if guard.busy:
                return original(*args, **kwargs)
            first, second = answer(name, call_arguments(args, kwargs))
            return new_stand_in(first), new_stand_in(second)

        return non_binding(copy_identity(replayed_socketpair, original))
