"""TLS: the ``ssl`` module's connections, recorded at the level Python sees them.

``ssl`` encrypts in C and reads and writes the socket's fd itself, so its traffic never
passes the socket methods of ``sockets``. Instead, the C connection object behind every
``ssl.SSLSocket`` and ``ssl.SSLObject`` (their ``_sslobj``, made by
``SSLContext._wrap_socket`` / ``_wrap_bio``) is replaced by a stand-in whose every call
is an event: ``do_handshake``, ``read`` (keeps **the plaintext received**), ``write``
(keeps only length and CRC, as socket writes do), ``pending``, ``getpeercert``,
``cipher``, ``version``, ``shutdown``, ... The program still holds genuine
``ssl.SSLSocket`` / ``ssl.SSLObject`` objects; only their private ``_sslobj`` differs.

An ``SSLObject`` works over two ``ssl.MemoryBIO``: what a call wrote into the outgoing
one (ciphertext the program passes on) and how much it took from the incoming one are
an event of their own, ``ssl.MemoryBIO.transfer``, before the call's event.

``SSLContext`` methods that read files or depend on the machine's OpenSSL
(``load_cert_chain``, ``load_verify_locations``, ``set_default_verify_paths``,
``set_ciphers``, ``get_ciphers``, ...) are events too. In a replay none of them runs and
no handshake happens: certificates and keys need not exist.
"""
from __future__ import annotations

import _socket
import encodings.idna  # noqa: F401  (see below)
import itertools
import weakref
from binascii import crc32

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, call_arguments, copy_identity

# socket.getaddrinfo("localhost", ...) encodes the host name with the idna codec in C,
# importing it inside a recorded call; a replay answers getaddrinfo without importing it,
# so ssl's own use of the codec (``SSLContext._encode_hostname``) would import it, and
# take the import locks, in the replay only. Both modes preload this module: here it is.

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True

_fileno = _socket.socket.fileno  # the C method: never an event
_SOCKET, _OBJECT = "ssl.SSLSocket.", "ssl.SSLObject."
_TRANSFER = "ssl.MemoryBIO.transfer"
_METHODS = ("do_handshake", "read", "write", "pending", "getpeercert", "get_channel_binding", "cipher",
            "shared_ciphers", "version", "selected_alpn_protocol", "compression", "shutdown",
            "verify_client_post_handshake", "session", "session_reused")
_serials = itertools.count(1)  # names an SSLObject on the tape, which has no fd


class _Events:
    """Interned headers of the TLS events, one set per tape."""

    _by_tape: dict = {}

    def __init__(self, tape) -> None:
        self.tape = tape
        self.headers = {prefix + method: Headers(tape, prefix + method, True)
                        for prefix in (_SOCKET, _OBJECT) for method in _METHODS}
        for name in ("ssl.SSLContext.wrap_socket", "ssl.SSLContext.wrap_bio", _TRANSFER):
            self.headers[name] = Headers(tape, name, True)

    @classmethod
    def of(cls, tape) -> _Events:
        events = cls._by_tape.get(id(tape))
        if events is None or events.tape is not tape:
            events = cls._by_tape[id(tape)] = cls(tape)
        return events


def _sent(data) -> list | None:
    try:
        view = memoryview(data)
        return [view.nbytes, crc32(view)]
    except (TypeError, ValueError, BufferError):
        return None


def _buffer_size(buffer) -> int | None:
    try:
        return memoryview(buffer).nbytes
    except (TypeError, ValueError, BufferError):
        return None


class _RecordedConnection:
    """The ``_sslobj`` of a recorded TLS connection: the real one, each call an event."""

    __slots__ = ("_real", "_events", "_prefix", "_key", "_bios")

    def __init__(self, real, events: _Events, prefix: str, key: int, bios) -> None:
        self._real, self._events, self._prefix, self._key, self._bios = real, events, prefix, key, bios

    def __repr__(self) -> str:
        return repr(self._real)

    def _call(self, method: str, shown: tuple, function, keep=None):
        if guard.busy:
            return function()
        headers = self._events.headers[self._prefix + method]
        if self._bios is None:
            return record(headers, self._events.tape, function, (self._key, *shown), keep)
        return self._call_over_bios(headers, function, (self._key, *shown), keep)

    def _call_over_bios(self, headers, function, shown, keep):
        incoming, outgoing = self._bios
        before = (incoming.pending, outgoing.pending)
        return record(headers, self._events.tape, function, shown, keep, after=lambda: self._transfer(before))

    def _transfer(self, before: tuple) -> None:
        """The event saying what the call did to the BIOs: [bytes written out, count taken in]."""
        tape = self._events.tape
        try:
            incoming, outgoing = self._bios
            written = b""
            if outgoing.pending > before[1]:
                data = outgoing.read()  # MemoryBIO has no peek: read all and put it back
                outgoing.write(data)
                written = data[before[1]:]
            tape.returned_with_arguments(self._events.headers[_TRANSFER].returned, (self._key,),
                                         [written, before[0] - incoming.pending])
        except Exception as exc:
            tape.fault(exc)

    def do_handshake(self):
        return self._call("do_handshake", (), self._real.do_handshake)

    def read(self, len=1024, buffer=None):  # noqa: A002 - the C method's own names
        real = self._real
        if buffer is None:
            return self._call("read", (len,), lambda: real.read(len))
        size = _buffer_size(buffer)
        if size is None:
            return self._call("read", (len, None), lambda: real.read(len, buffer))
        view = memoryview(buffer).cast("B")
        return self._call("read", (len, size), lambda: real.read(len, buffer), lambda count: bytes(view[:count]))

    def write(self, data):
        return self._call("write", (_sent(data),), lambda: self._real.write(data))

    def pending(self):
        return self._call("pending", (), self._real.pending)

    def getpeercert(self, binary_form=False):
        return self._call("getpeercert", (binary_form,), lambda: self._real.getpeercert(binary_form))

    def get_channel_binding(self, cb_type="tls-unique"):
        return self._call("get_channel_binding", (cb_type,), lambda: self._real.get_channel_binding(cb_type))

    def cipher(self):
        return self._call("cipher", (), self._real.cipher)

    def shared_ciphers(self):
        return self._call("shared_ciphers", (), self._real.shared_ciphers)

    def version(self):
        return self._call("version", (), self._real.version)

    def selected_alpn_protocol(self):
        return self._call("selected_alpn_protocol", (), self._real.selected_alpn_protocol)

    def compression(self):
        return self._call("compression", (), self._real.compression)

    def verify_client_post_handshake(self):
        return self._call("verify_client_post_handshake", (), self._real.verify_client_post_handshake)

    def shutdown(self):
        # The C call returns the socket it was made for: the tape keeps only that it did.
        return self._call("shutdown", (), self._real.shutdown, lambda sock: sock is not None)

    @property
    def session(self):
        return self._call("session", (), lambda: self._real.session, _session_facts)

    @session.setter
    def session(self, value) -> None:
        self._real.session = value

    @property
    def session_reused(self):
        return self._call("session_reused", (), lambda: self._real.session_reused)

    @property
    def context(self):
        return self._real.context

    @context.setter
    def context(self, value) -> None:
        self._real.context = value

    @property
    def owner(self):
        return self._real.owner

    @owner.setter
    def owner(self, value) -> None:
        self._real.owner = value

    @property
    def server_side(self):
        return self._real.server_side

    @property
    def server_hostname(self):
        return self._real.server_hostname

    def __getattr__(self, name: str):
        return getattr(self._real, name)  # not an event: a replay reports it unsupported


_SESSION_FIELDS = ("id", "time", "timeout", "ticket_lifetime_hint", "has_ticket")


def _session_facts(session) -> list | None:
    return None if session is None else [getattr(session, name) for name in _SESSION_FIELDS]


class ReplayedSession:
    """An ``ssl.SSLSession`` of the recording: its facts, with no session behind them."""

    def __init__(self, facts: list) -> None:
        for name, value in zip(_SESSION_FIELDS, facts):
            setattr(self, name, value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReplayedSession) and other.id == self.id

    __hash__ = object.__hash__


class _ReplayedConnection:
    """The ``_sslobj`` of a replayed TLS connection: every call answered from the tape."""

    __slots__ = ("_player", "_prefix", "_key", "_bios", "_socket", "context", "_owner", "server_side",
                 "server_hostname", "_session")

    def __init__(self, player, prefix: str, key: int, bios, sock, context, server_side, server_hostname,
                 owner) -> None:
        self._player, self._prefix, self._key, self._bios = player, prefix, key, bios
        # Weak, as the C object's: a socket dropped unclosed must be finalized when it was recorded.
        self._socket = None if sock is None else weakref.ref(sock)
        self.context, self.server_side, self.server_hostname = context, server_side, server_hostname
        self.owner = owner
        self._session = None

    def __repr__(self) -> str:
        return f"<_ssl._SSLSocket object at {id(self):#x}>"

    def _answer(self, method: str, shown: tuple):
        player = self._player
        if self._bios is not None:
            written, consumed = player.answer(_TRANSFER, (self._key,))
            incoming, outgoing = self._bios
            if written:
                outgoing.write(written)
            if consumed:
                incoming.read(consumed)
        return player.answer(self._prefix + method, (self._key, *shown))

    def do_handshake(self):
        return self._answer("do_handshake", ())

    def read(self, len=1024, buffer=None):  # noqa: A002
        if buffer is None:
            return self._answer("read", (len,))
        size = _buffer_size(buffer)
        data = self._answer("read", (len, size))
        if size is None:
            return data
        memoryview(buffer).cast("B")[:data.__len__()] = data
        return data.__len__()

    def write(self, data):
        return self._answer("write", (_sent(data),))

    def pending(self):
        return self._answer("pending", ())

    def getpeercert(self, binary_form=False):
        return self._answer("getpeercert", (binary_form,))

    def get_channel_binding(self, cb_type="tls-unique"):
        return self._answer("get_channel_binding", (cb_type,))

    def cipher(self):
        return self._answer("cipher", ())

    def shared_ciphers(self):
        return self._answer("shared_ciphers", ())

    def version(self):
        return self._answer("version", ())

    def selected_alpn_protocol(self):
        return self._answer("selected_alpn_protocol", ())

    def compression(self):
        return self._answer("compression", ())

    def verify_client_post_handshake(self):
        return self._answer("verify_client_post_handshake", ())

    def shutdown(self):
        self._answer("shutdown", ())
        return None if self._socket is None else self._socket()

    @property
    def session(self):
        facts = self._answer("session", ())
        return None if facts is None else ReplayedSession(facts)

    @session.setter
    def session(self, value) -> None:
        self._session = value

    @property
    def session_reused(self):
        return self._answer("session_reused", ())

    @property
    def owner(self):
        return None if self._owner is None else self._owner()

    @owner.setter
    def owner(self, value) -> None:
        self._owner = None if value is None else weakref.ref(value)

    def __getattr__(self, name: str):
        self._player.unsupported(f"ssl._SSLSocket.{name}", "this TLS call's result")


for _connection in (_RecordedConnection, _ReplayedConnection):
    # What the program sees if it looks at its SSLSocket's _sslobj
    _connection.__module__, _connection.__name__, _connection.__qualname__ = "_ssl", "_SSLSocket", "_SSLSocket"


def _hostname(server_hostname):
    return server_hostname.decode() if isinstance(server_hostname, bytes) else server_hostname


class WrapSocket:
    """``SSLContext._wrap_socket``: event ``ssl.SSLContext.wrap_socket(fd, server_side, hostname)``."""

    @staticmethod
    def record(entry, original, tape):
        events = _Events.of(tape)
        headers = events.headers["ssl.SSLContext.wrap_socket"]

        def _wrap_socket(self, sock, server_side, server_hostname=None, *, owner=None, session=None):
            if guard.busy:
                return original(self, sock, server_side, server_hostname, owner=owner, session=session)
            fd = _fileno(sock)
            real = record(headers, tape, lambda: original(self, sock, server_side, server_hostname, owner=owner,
                                                          session=session),
                          (fd, server_side, _hostname(server_hostname)), lambda _: None)
            return _RecordedConnection(real, events, _SOCKET, fd, None)

        return copy_identity(_wrap_socket, original)

    @staticmethod
    def replay(entry, original, player):
        answer = player.answer

        def _wrap_socket(self, sock, server_side, server_hostname=None, *, owner=None, session=None):
            if guard.busy:
                return original(self, sock, server_side, server_hostname, owner=owner, session=session)
            fd = sock.fileno()  # the recorded fd, as the stand-in socket answers it
            hostname = _hostname(server_hostname)
            answer("ssl.SSLContext.wrap_socket", (fd, server_side, hostname))
            return _ReplayedConnection(player, _SOCKET, fd, None, sock, self, server_side, hostname, owner)

        return copy_identity(_wrap_socket, original)


class WrapBio:
    """``SSLContext._wrap_bio``: event ``ssl.SSLContext.wrap_bio(serial, server_side, hostname)``;
    the serial names the ``SSLObject`` in its later events."""

    @staticmethod
    def record(entry, original, tape):
        events = _Events.of(tape)
        headers = events.headers["ssl.SSLContext.wrap_bio"]

        def _wrap_bio(self, incoming, outgoing, server_side, server_hostname=None, *, owner=None, session=None):
            if guard.busy:
                return original(self, incoming, outgoing, server_side, server_hostname, owner=owner,
                                session=session)
            serial = next(_serials)
            real = record(headers, tape, lambda: original(self, incoming, outgoing, server_side, server_hostname,
                                                          owner=owner, session=session),
                          (serial, server_side, _hostname(server_hostname)), lambda _: None)
            return _RecordedConnection(real, events, _OBJECT, serial, (incoming, outgoing))

        return copy_identity(_wrap_bio, original)

    @staticmethod
    def replay(entry, original, player):
        answer = player.answer

        def _wrap_bio(self, incoming, outgoing, server_side, server_hostname=None, *, owner=None, session=None):
            if guard.busy:
                return original(self, incoming, outgoing, server_side, server_hostname, owner=owner,
                                session=session)
            serial = next(_serials)
            hostname = _hostname(server_hostname)
            answer("ssl.SSLContext.wrap_bio", (serial, server_side, hostname))
            return _ReplayedConnection(player, _OBJECT, serial, (incoming, outgoing), None, self, server_side,
                                       hostname, owner)

        return copy_identity(_wrap_bio, original)


def _shown_context_arguments(method: str, args: tuple, kwargs: dict):
    """What the tape keeps of a context method's arguments: a key's password is left out."""
    if method == "load_cert_chain":
        if len(args) > 2 and args[2] is not None:
            args = (*args[:2], "<password>", *args[3:])
        if kwargs.get("password") is not None:
            kwargs = {**kwargs, "password": "<password>"}
    return call_arguments(args, kwargs)


class ContextMethod:
    """An ``SSLContext`` method that reads files or asks OpenSSL: arguments and result (or
    exception) are kept; a replay answers it without running it."""

    @staticmethod
    def record(entry, original, tape):
        method = entry.name.rpartition(".")[2]
        headers = Headers(tape, entry.qualified_name, True)

        def recorded(self, *args, **kwargs):  # record() calls the original alone while busy
            return record(headers, tape, lambda: original(self, *args, **kwargs),
                          _shown_context_arguments(method, args, kwargs))

        return copy_identity(recorded, original)

    @staticmethod
    def replay(entry, original, player):
        method = entry.name.rpartition(".")[2]
        name, answer = entry.qualified_name, player.answer

        def replayed(self, *args, **kwargs):
            if guard.busy:
                return original(self, *args, **kwargs)
            return answer(name, _shown_context_arguments(method, args, kwargs))

        return copy_identity(replayed, original)
