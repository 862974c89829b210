"""Found in tornado (iostream_test.py TestPipeIOStream::test_flow_control: 10 MB through a
pipe within gen_test's 5 s): the test passes plain and times out recorded -- results change
("TimeoutError: Operation timed out after 5 seconds").

10 MB through a pipe with os.write/os.read: 0.05 s plain, 5.9 s recorded (about 120x). The
time goes to fingerprints.fingerprint() of every os.write (core/boundary/fingerprints.py,
since c7f1abe): ADDRESS.search over each write up to MASK_LIMIT (1 MiB) runs at about
5 MB/s, because its second alternative starts with a lookbehind, so `re` has no literal
prefix to skip ahead with: 15 ms per 64 KiB of b"a", 23 ms of text. Searching b"0x..." and
the decimal ids with two patterns takes 0.9 ms (b"a") / 11 ms (text) per 64 KiB; a lower
MASK_LIMIT (addresses come in short writes: log lines, reports) bounds it: with
MASK_LIMIT = 4096 this program takes 0.06 s recorded."""
import os
import time

r, w = os.pipe()
os.set_blocking(r, False)
os.set_blocking(w, False)
data = memoryview(b"a" * (10 * 1024 * 1024))
start = time.perf_counter()
sent = received = 0
while received < len(data):
    if sent < len(data):
        try:
            sent += os.write(w, data[sent:sent + 128 * 1024])
        except BlockingIOError:
            pass
    try:
        received += len(os.read(r, 128 * 1024))
    except BlockingIOError:
        pass
print(f"10 MB through a pipe in {time.perf_counter() - start:.2f} s")
