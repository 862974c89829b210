"""Found in trustme (tests/test_cli.py: a CA and a server key written as PEM files; the same
in every TLS-on-localhost suite that makes its certificates on the fly: trio, anyio, tornado).

Key generation draws its randomness inside OpenSSL (its own RAND_bytes -> getrandom(2)), not
through os.urandom, so nothing is on the tape: the replay makes another key, and the first
write of it differs ("the program wrote other bytes than recorded", same length, other CRC).
ssl.RAND_bytes, the stdlib's door to the same generator, shows it without cryptography."""
import os
import ssl
import tempfile

path = os.path.join(tempfile.mkdtemp(), "key.bin")
with open(path, "wb") as handle:
    handle.write(ssl.RAND_bytes(32))  # stands for key.private_bytes(...) of a new key
os.remove(path)
os.rmdir(os.path.dirname(path))
