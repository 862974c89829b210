"""The recorder's hot path, in process: ``python tests/bench/bench_hot_path.py``.

Times one recorded ``time.time()`` call through the real wrapper
(``boundary.wrappers.recording_function``) and tape writer (``TapeWriter.returned``),
and the primitives that call is made of, so a change to the hot path can be checked
in seconds. Best of 7 repeats of 200k calls; nanoseconds per call.
"""
from __future__ import annotations

import _thread
import os
import sys
import tempfile
import time
import timeit

CALLS = 200_000


def per_call(statement: str, namespace: dict, after=None) -> float:
    """Best of 7 repeats of ``statement`` run CALLS times, in ns per run."""
    def run() -> None:
        timeit.Timer(statement, globals=namespace).timeit(CALLS)
        if after is not None:
            after()  # e.g. empty the tape buffer, as the flusher would

    timer = timeit.Timer(run)
    return min(timer.repeat(7, 1)) / CALLS * 1e9


def main() -> int:
    try:
        from retrace_core.boundary.guard import guard
        from retrace_core.boundary.wrappers import recording_function
        from retrace_core.tape import codec
        from retrace_core.tape.writer import TapeWriter
    except ImportError as exc:
        print(f"bench_hot_path: retrace_core is not importable by {sys.executable} ({exc})", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="retrace-hot-path-") as scratch:
        tape = TapeWriter(os.path.join(scratch, "tape.bin"))
        recorded = recording_function(time.time, tape, "time.time", False)
        namespace = {"time": time, "recorded": recorded, "tape": tape, "guard": guard, "codec": codec,
                     "_thread": _thread, "lock": _thread.allocate_lock(), "header": b"\x04",
                     "value": time.time(), "nothing": lambda *args, **kwargs: None}
        clear = tape._buffer.clear
        rows = [
            ("time.time(), unpatched", per_call("time.time()", namespace)),
            ("time.time() recorded: wrapper + TapeWriter.returned", per_call("recorded()", namespace, clear)),
            ("  TapeWriter.returned(header, value) alone", per_call("tape.returned(header, value)", namespace, clear)),
            ("  guard.busy (thread-local read)", per_call("guard.busy", namespace)),
            ("  guard.busy = True; guard.busy = False", per_call("guard.busy = True; guard.busy = False", namespace)),
            ("  call of a def f(*args, **kwargs)", per_call("nothing()", namespace)),
            ("  _thread.get_ident()", per_call("_thread.get_ident()", namespace)),
            ("  with lock: pass", per_call("with lock: pass", namespace)),
            ("  lock.acquire(); lock.release()", per_call("lock.acquire(); lock.release()", namespace)),
            ("  codec.packb(float)", per_call("codec.packb(value)", namespace)),
            ("  tape._buffer += 1 byte", per_call("tape._buffer += header", namespace, clear)),
        ]
        tape.close()
    width = max(len(name) for name, _ in rows)
    print(f"{'':{width}}  ns/call   ({sys.executable}, Python {sys.version.split()[0]})")
    for name, nanoseconds in rows:
        print(f"{name:{width}}  {nanoseconds:7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
