"""Keys and signatures that OpenSSL makes from its own randomness: their bytes on the tape.

``cryptography`` (trustme, and every test suite that makes certificates on the fly)
generates keys and signs inside OpenSSL, which draws its randomness itself: ``getentropy``,
mixed with the process id, the thread, the clock and a heap address. None of that is a
Python call, so a replay made another key, another certificate, and wrote other bytes
(V3 in docs/compatibility.md). Answering OpenSSL's ``getentropy`` from the tape would not
do: with the same entropy, two runs still gave other keys (the nonce mixes in the time and
the address).

So the calls that make something random are boundary calls, recorded at the level Python
sees: the key generators (``rsa``, ``ec``, ``dsa`` ``generate_private_key``; ``generate()``
of Ed25519, Ed448, X25519 and X448), the builders' ``sign`` (certificates, requests,
revocation lists: an ECDSA or RSA-PSS signature is random), the private keys' own
``sign`` (ML-DSA's too: hedged), ML-KEM's ``generate`` and ``encapsulate``, Diffie-Hellman
parameters and keys, RSA encryption, and a private key or PKCS#12 file written with a
password (its salt and IV are random). The tape keeps what the call made as DER bytes (a key as PKCS#8); the replay
loads an equal object from them. A key on the tape is a secret on the tape: see
docs/security.md. Nothing of ``cryptography`` is imported before the program imports it.
"""
from __future__ import annotations

from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import Headers, copy_identity

__tracebackhide__ = True


def _shown(args: tuple, kwargs: dict) -> list:
    """What the tape keeps of the arguments: numbers and strings as they are, bytes by
    length, objects (a curve, a key, a hash) by type name."""
    def one(value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return len(value)
        return type(value).__name__

    return [[one(value) for value in args], {name: one(value) for name, value in sorted(kwargs.items())}]


def _der_key(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_key(data: bytes):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_der_private_key(data, None)


def _der(made) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return made.public_bytes(serialization.Encoding.DER)


def _prepared() -> None:
    """The modules keeping and loading need, and those the originals import when they run
    (the OpenSSL backend: ``Ed25519PrivateKey.generate`` and others check it), imported in
    both runs at the same point (the first recorded call): a replay does not run the
    originals, and a program that walks ``sys.modules`` (``inspect.getmodule``, in pytest's
    failure reports) must find the same modules in both (trio's suite)."""
    from cryptography import x509  # noqa: F401
    from cryptography.hazmat.backends.openssl import backend  # noqa: F401
    from cryptography.hazmat.primitives import serialization  # noqa: F401


def _always(args: tuple, kwargs: dict) -> bool:
    return True


def _special(keep, load, is_classmethod: bool = False, random_when=_always):
    """A table special: ``keep(result)`` is the tape's bytes, ``load(bytes)`` the replay's
    object. For a classmethod (``Ed25519PrivateKey.generate``) the original is the class's
    own ``classmethod`` object, and the stand-in is one too. A call for which
    ``random_when(args, kwargs)`` is False makes the same result in both runs and runs as
    it is in both."""

    def runner(original):
        if not is_classmethod:
            return lambda args, kwargs: original(*args, **kwargs)
        return lambda args, kwargs: original.__get__(None, args[0])(*args[1:], **kwargs)

    def shown(args: tuple, kwargs: dict) -> list:
        return _shown(args[1:] if is_classmethod else args, kwargs)

    def stand_in(wrapper, original):
        copy_identity(wrapper, getattr(original, "__func__", original))
        return classmethod(wrapper) if is_classmethod else wrapper

    class Special:
        @staticmethod
        def record(entry, original, tape):
            headers = Headers(tape, entry.qualified_name, True)
            run = runner(original)

            def recorded(*args, **kwargs):
                if guard.busy or not random_when(args, kwargs):
                    return run(args, kwargs)
                _prepared()
                return record(headers, tape, lambda: run(args, kwargs), shown(args, kwargs), keep)

            return stand_in(recorded, original)

        @staticmethod
        def replay(entry, original, player):
            name = entry.qualified_name
            run = runner(original)

            def replayed(*args, **kwargs):
                if guard.busy or not random_when(args, kwargs):
                    return run(args, kwargs)
                _prepared()
                return load(player.answer(name, shown(args, kwargs)))

            return stand_in(replayed, original)

    return Special


def _load_key_quietly(data: bytes):
    """A key loaded without cryptography's deprecation warning (a Diffie-Hellman key, since
    50: the recording, which made the key, showed none). The filter goes in and out of the
    list in place: ``warnings.catch_warnings`` would count as a change of the filters, and
    every module's record of warnings already shown would be cleared, in the replay only."""
    import warnings

    from cryptography.utils import CryptographyDeprecationWarning

    quiet = ("ignore", None, CryptographyDeprecationWarning, None, 0)
    warnings.filters.insert(0, quiet)
    try:
        return _load_key(data)
    finally:
        try:
            warnings.filters.remove(quiet)
        except ValueError:  # the program replaced the list meanwhile (another thread)
            pass


def _der_parameters(parameters) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return parameters.parameter_bytes(serialization.Encoding.DER, serialization.ParameterFormat.PKCS3)


def _load_parameters(data: bytes):
    """From the Rust binding itself: ``serialization.load_der_parameters`` warns that
    finite-field Diffie-Hellman is deprecated (cryptography 50), a warning the recording
    never showed."""
    from cryptography.hazmat.bindings._rust import openssl

    return openssl.dh.from_der_parameters(data)


def _load_certificate_like(kind: str):
    def load(data: bytes):
        from cryptography import x509

        return getattr(x509, kind)(data)

    return load


def _encrypted(args: tuple, kwargs: dict) -> bool:
    """``private_bytes(encoding, format, encryption_algorithm)`` with a password: the salt
    and IV are OpenSSL's randomness. Without one the bytes are the key's own."""
    from cryptography.hazmat.primitives import serialization

    encryption = kwargs.get("encryption_algorithm", args[3] if len(args) > 3 else None)
    return not isinstance(encryption, serialization.NoEncryption)


GeneratedKey = _special(_der_key, _load_key)
GeneratedKeyClassmethod = _special(_der_key, _load_key, is_classmethod=True)
SignedCertificate = _special(_der, _load_certificate_like("load_der_x509_certificate"))
SignedRequest = _special(_der, _load_certificate_like("load_der_x509_csr"))
SignedRevocationList = _special(_der, _load_certificate_like("load_der_x509_crl"))
Signature = _special(None, bytes)  # and an RSA ciphertext (OAEP and PKCS#1 v1.5 pad at random)
GeneratedParameters = _special(_der_parameters, _load_parameters)
GeneratedKeyOfDeprecatedKind = _special(_der_key, _load_key_quietly)
Encapsulation = _special(list, tuple)  # (shared secret, ciphertext)
EncryptedKey = _special(None, bytes, random_when=_encrypted)  # a key, or a PKCS#12 file, with its salt
