"""What the tape keeps of bytes written to a file or another fd: not the bytes (a replay
does not write; see sockets.sent for why we keep no copy) but their length and CRC-32,
and, when the bytes hold object addresses, a second CRC with those masked.

An address differs from process to process (``<function f at 0x7f3a...>``, the decimal
``id(self)`` in a log line), and is not a change of behaviour: a replayed write whose
bytes differ only there is passed over and counted (``verify`` reports how many), where
any other difference is a divergence. Addresses are ``0x`` with six or more hex digits,
and decimal numbers in the range of user-space addresses on 64-bit Linux (14-15 digits,
0x55... to 0x7f...: where CPython's heap and its mmap'ed arenas live).
"""
from __future__ import annotations

import re
from binascii import crc32

HEX_ADDRESS = re.compile(rb"0x[0-9a-fA-F]{6,}")  # a literal prefix: re skips ahead at memory speed
# The tail of an address whose repr was cut short in the middle (pytest's saferepr,
# reprlib): "<module '_pytest.main' from '/...'>...eb6ed1bc90>>" under --fulltrace.
CUT_ADDRESS = re.compile(rb"\.\.\.[0-9a-fA-F]{4,}>")
MASKED_CUT = b"...?>"
DECIMAL_ID = re.compile(rb"(?<![0-9])(?:9[3-9][0-9]{12}|1[0-4][0-9]{13})(?![0-9])")  # ~5 MB/s: screened first
MASKED = b"0x?"
# Bigger writes keep one CRC (and a replay makes no copy of them). pytester writes a whole
# inner run's output in one call (10.8 KiB with plugin reprs and their ids; 112 KiB in
# another test): limits of 8 and then 64 KiB made those writes divergences. Masking costs
# about 0.35 ms per MiB of text, 0.5 ms where it is dense with numbers (measured on the
# AMD EPYC VM of docs/performance.md, CPython 3.11).
MASK_LIMIT = 1 << 20
_DIGITS_AS_NINE = bytes.maketrans(b"012345678", b"999999999")
_FOURTEEN_DIGITS = b"9" * 14

SAME, ADDRESSES_ONLY, DIFFERENT = "same", "addresses only", "different"


def without_addresses(data) -> bytes:
    """``data`` with every object address masked."""
    masked = HEX_ADDRESS.sub(MASKED, data)
    if b"..." in masked:
        masked = CUT_ADDRESS.sub(MASKED_CUT, masked)
    if _FOURTEEN_DIGITS in masked.translate(_DIGITS_AS_NINE):
        masked = DECIMAL_ID.sub(MASKED, masked)
    return masked


def fingerprint(view: memoryview) -> list:
    """[length, CRC-32] of the bytes, and the CRC with addresses masked when there are any."""
    crc = crc32(view)
    if view.nbytes <= MASK_LIMIT:
        data = view.tobytes()
        masked = without_addresses(data)
        if masked != data:
            return [view.nbytes, crc, crc32(masked)]
    return [view.nbytes, crc]


def compare(recorded, view: memoryview) -> str:
    """How the bytes written now compare with a recorded fingerprint."""
    recorded = list(recorded)
    if recorded[:2] == [view.nbytes, crc32(view)]:
        return SAME
    if len(recorded) == 3 and recorded[0] == view.nbytes and view.nbytes <= MASK_LIMIT and \
            crc32(without_addresses(view.tobytes())) == recorded[2]:
        return ADDRESSES_ONLY
    return DIFFERENT
