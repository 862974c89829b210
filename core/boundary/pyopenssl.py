"""pyOpenSSL's TLS connections, recorded at the level Python sees them.

``OpenSSL.SSL.Connection`` drives OpenSSL through cffi: over a socket it reads and writes
the descriptor in C, and over memory BIOs its handshake messages depend on OpenSSL's own
randomness. Either way a replay that ran it again went elsewhere: over a socket the
descriptor is a stand-in and the handshake failed (trustme's suite); in memory the peer,
answered from the tape, had seen other bytes (trio's suite, V13 in
docs/compatibility.md). As ``tls.py`` does for ``ssl``, every method that moves the
connection or reads its negotiated state is an event: its result (plaintext received and
ciphertext produced are kept; data sent keeps only length and CRC) or its exception
(``WantReadError``, ``ZeroReturnError``, ``SysCallError``, ``Error``). Certificates are
kept as DER and loaded again in the replay. In a replay none of these calls reaches
OpenSSL: no handshake happens, and so the context's callbacks (verify, server name, ALPN)
run only when recording.
"""
from __future__ import annotations

import sys
from binascii import crc32

from retrace_core.boundary.guard import bypass, guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, copy_identity

__tracebackhide__ = True

# Methods whose first argument is data the program sends: kept as [length, CRC-32].
SENDING = frozenset({"send", "sendall", "write", "bio_write"})
# Methods that return certificates (an ``X509``, a cryptography ``Certificate``, or lists).
CERTIFICATES = frozenset({"get_peer_certificate", "get_peer_cert_chain", "get_verified_chain", "get_certificate"})


def _shown(method: str, args: tuple, kwargs: dict) -> object:
    if method in SENDING and args:
        try:
            view = memoryview(args[0])
            args = ([view.nbytes, crc32(view)], *args[1:])
        except (TypeError, ValueError, BufferError):
            pass
    elif method == "recv_into" and args:
        args = args[1:]  # the buffer: its bytes are the result
    return [list(args), kwargs] if kwargs else list(args)


def _prepared() -> tuple:
    """What keeping and loading certificates needs, imported as the wrappers are made (at
    the program's import of ``OpenSSL.SSL``, the same moment in both modes): an import in
    the middle of a call would take the program's import locks, events in one mode only."""
    with bypass():
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding
        from OpenSSL import crypto
    return x509, Encoding, crypto


def _kept_certificate(cert) -> object:
    """A certificate as the tape keeps it: [kind, DER]."""
    if cert is None:
        return None
    _x509, encoding, _crypto = _prepared()
    if hasattr(cert, "to_cryptography"):
        return ["X509", cert.to_cryptography().public_bytes(encoding.DER)]
    return ["cryptography", cert.public_bytes(encoding.DER)]


def _certificate(kept) -> object:
    if kept is None:
        return None
    kind, der = kept
    x509, _encoding, crypto = _prepared()
    loaded = x509.load_der_x509_certificate(der)
    return crypto.X509.from_cryptography(loaded) if kind == "X509" else loaded


def _kept(method: str, result: object) -> object:
    if method in CERTIFICATES:
        if isinstance(result, list):
            return [_kept_certificate(cert) for cert in result]
        return _kept_certificate(result)
    return result


def _rebuilt(method: str, value: object) -> object:
    if method in CERTIFICATES:
        if isinstance(value, list) and (not value or isinstance(value[0], list)):
            return [_certificate(kept) for kept in value]
        return _certificate(value)
    return value


class ConnectionCall:
    """One ``OpenSSL.SSL.Connection`` method (see above), or a ``Context`` method that reads
    files in C (``load_verify_locations``, ``use_certificate_file``, ...): in a replay no
    handshake needs what they load, and the files may be gone."""

    @staticmethod
    def record(entry, original, tape):
        method = entry.name.rpartition(".")[2]
        headers = Headers(tape, entry.qualified_name, True)
        _prepared()

        def recorded(self, *args, **kwargs):
            if guard.busy:
                return original(self, *args, **kwargs)
            handled = sys.exc_info()[1]
            try:
                return call(self, args, kwargs)
            except Exception as exc:
                # As a replay raises it: from this call, with none of pyOpenSSL's frames
                # under it, whose source lines a traceback printer would read in the
                # recording only (trustme's server thread prints its TLS error).
                exc.__context__ = handled
                raise exc.with_traceback(None)  # noqa: B904  (the context is set above)

        def call(self, args, kwargs):
            if method == "recv_into":
                buffer = args[0]
                count = record(headers, tape, lambda: original(self, *args, **kwargs),
                               _shown(method, args, kwargs), lambda count: bytes(memoryview(buffer)[:count]))
                return count
            return record(headers, tape, lambda: original(self, *args, **kwargs), _shown(method, args, kwargs),
                          lambda result: _kept(method, result))

        return copy_identity(recorded, original)

    @staticmethod
    def replay(entry, original, player):
        method, name = entry.name.rpartition(".")[2], entry.qualified_name
        _prepared()

        def replayed(self, *args, **kwargs):
            if guard.busy:
                return original(self, *args, **kwargs)
            value = player.answer(name, _shown(method, args, kwargs))
            if method == "recv_into":
                memoryview(args[0]).cast("B")[: len(value)] = value
                return len(value)
            return _rebuilt(method, value)

        return copy_identity(replayed, original)
