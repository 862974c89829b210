"""Keys and certificates made on the fly replay exactly (boundary/key_material.py).

Found in trustme's and trio's suites (V3 in docs/compatibility.md): OpenSSL draws its own
randomness, so a replay generated another key and signed another certificate, and the
first write of either diverged: "the program wrote other bytes than recorded"."""
import pytest

from conftest import calls, cli

pytest.importorskip("cryptography")

MAKES_A_CERTIFICATE = """\
import datetime, hashlib
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.x509.oid import NameOID

key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "retrace test CA")])
start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=1))
               .sign(key, hashes.SHA256()))
pem = certificate.public_bytes(serialization.Encoding.PEM)
with open("ca.pem", "wb") as handle:
    handle.write(pem)
signature = key.sign(b"data", ec.ECDSA(hashes.SHA256()))
key.public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA256()))  # the replayed pair still fits
others = [rsa.generate_private_key(public_exponent=65537, key_size=1024), ed25519.Ed25519PrivateKey.generate(),
          x25519.X25519PrivateKey.generate()]
raw = [other.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()) for other in others]
print(hashlib.sha256(pem + signature + b"".join(raw)).hexdigest(), type(key).__name__, type(certificate).__name__)
"""


def test_a_certificate_made_on_the_fly_replays_exactly(record, write_program):
    write_program(MAKES_A_CERTIFICATE)
    run = record("program.py")  # the fixture verifies every recording
    assert run.status == 0, run.stderr
    digest, key_type, certificate_type = run.stdout.split()
    assert (key_type, certificate_type) == ("ECPrivateKey", "Certificate")
    tape = run.tape()
    assert len(calls(tape, "cryptography.hazmat.primitives.asymmetric.ec.generate_private_key")) == 1
    assert len(calls(tape, "cryptography.x509.base.CertificateBuilder.sign")) == 1
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout), replayed.stderr
    at_end = cli("inspect", str(run.path), "--at", "end")
    assert at_end.status == 0 and "diverged" not in at_end.stdout + at_end.stderr, at_end.stdout + at_end.stderr


def test_the_modules_the_generators_import_are_there_in_the_replay(record, write_program):
    """A replay does not run the generators, so what they import when they run must be
    imported in both runs (trio's suite: pytest's failure report walks ``sys.modules``)."""
    write_program("""
        import sys
        from cryptography.hazmat.primitives.asymmetric import ed25519
        ed25519.Ed25519PrivateKey.generate()
        print(sorted(name for name in sys.modules if name.startswith("cryptography.hazmat.backends")))
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    assert "cryptography.hazmat.backends.openssl.backend" in run.stdout
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout), replayed.stderr


POST_QUANTUM_AND_MORE = """\
import hashlib
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, mldsa, mlkem, padding, rsa

kem = mlkem.MLKEM768PrivateKey.generate()
secret, ciphertext = kem.public_key().encapsulate()
assert kem.decapsulate(ciphertext) == secret  # the replayed key and ciphertext still fit
signer = mldsa.MLDSA65PrivateKey.generate()
signature = signer.sign(b"data")
signer.public_key().verify(signature, b"data")
parameters = dh.generate_parameters(generator=2, key_size=512)
exchange = parameters.generate_private_key()
sealed = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().encrypt(
    b"secret", padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
made = [kem.public_key().public_bytes_raw(), ciphertext, secret, signature, sealed,
        parameters.parameter_bytes(serialization.Encoding.DER, serialization.ParameterFormat.PKCS3),
        exchange.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)]
print(hashlib.sha256(b"".join(made)).hexdigest(), type(kem).__name__, type(parameters).__name__)
"""


def test_post_quantum_keys_encapsulations_and_other_random_results_replay_exactly(record, write_program):
    """paramiko's default key exchange (mlkem768x25519) generates an ML-KEM key on one side and
    encapsulates on the other: a replay drew other randomness, could not decrypt the recorded
    peer's packets and took another path (an SSHException)."""
    pytest.importorskip("cryptography.hazmat.primitives.asymmetric.mlkem")
    write_program(POST_QUANTUM_AND_MORE)
    run = record("program.py")  # the fixture verifies every recording
    assert run.status == 0, run.stderr
    assert run.stdout.split()[1:] == ["MLKEM768PrivateKey", "DHParameters"]
    tape = run.tape()
    for name in ("mlkem.MLKEM768PrivateKey.generate", "mlkem.rust_openssl.mlkem.MLKEM768PublicKey.encapsulate",
                 "mldsa.MLDSA65PrivateKey.generate", "mldsa.rust_openssl.mldsa.MLDSA65PrivateKey.sign",
                 "dh.generate_parameters", "dh.rust_openssl.dh.DHParameters.generate_private_key",
                 "rsa.rust_openssl.rsa.RSAPublicKey.encrypt"):
        assert len(calls(tape, "cryptography.hazmat.primitives.asymmetric." + name)) == 1, name
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout), replayed.stderr


ENCRYPTS_ITS_KEYS = """\
import hashlib
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

locked = serialization.BestAvailableEncryption(b"password")
keys = [ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(public_exponent=65537, key_size=1024),
        ed25519.Ed25519PrivateKey.generate()]
made = [key.private_bytes(serialization.Encoding.PEM, form, locked) for key in keys
        for form in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL)
        if not (isinstance(key, ed25519.Ed25519PrivateKey) and form is serialization.PrivateFormat.TraditionalOpenSSL)]
made.append(pkcs12.serialize_key_and_certificates(b"friendly", keys[0], None, None, locked))
with open("key.pem", "wb") as handle:
    handle.write(made[0])
# the replay's key opens with the password as the recording's did
loaded = serialization.load_pem_private_key(made[0], b"password")
print(hashlib.sha256(b"".join(made)).hexdigest(), type(loaded).__name__)
"""


def test_keys_written_encrypted_replay_exactly(record, write_program):
    """Found in httpx's suite (trustme's encrypted key written to a file): the salt and IV of
    a key encrypted with a password come from OpenSSL's own randomness, so the replay wrote
    a key of the same length and other bytes."""
    write_program(ENCRYPTS_ITS_KEYS)
    run = record("program.py")  # the fixture verifies every recording
    assert run.status == 0, run.stderr
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout), replayed.stdout + replayed.stderr
