"""The recorder's and the player's hot paths, in process: ``python tests/bench/bench_hot_path.py``.

Times one recorded ``time.time()`` call through the real wrappers
(``boundary.wrappers.recording_function``, with the leaf wrapper the table gives the C
clocks and the general one) and tape writer (``TapeWriter.returned``), one replayed call
(``replaying_function`` and ``TapePlayer.answer_plain``), and the primitives they are made
of, so a change to a hot path can be checked in seconds. Best of 7 repeats of 200k calls;
nanoseconds per call.
"""
from __future__ import annotations

import _thread
import os
import sys
import tempfile
import time
import timeit

CALLS = 200_000


def per_call(statement: str, namespace: dict, after=None, before=None) -> float:
    """Best of 7 repeats of ``statement`` run CALLS times, in ns per run. ``before`` and
    ``after`` run untimed around each repeat (e.g. a fresh player; an emptied buffer)."""
    best = float("inf")
    for _ in range(7):
        if before is not None:
            before()
        best = min(best, timeit.Timer(statement, globals=namespace).timeit(CALLS))
        if after is not None:
            after()
    return best / CALLS * 1e9


def write_tape(path: str, writer_class, recording_function) -> None:
    """A tape of CALLS time.time() events, written by the recorder's own wrapper and writer."""
    tape = writer_class(path)
    recorded = recording_function(time.time, tape, "time.time", False, leaf=True)
    for _ in range(CALLS):
        recorded()
    tape.close()


def main() -> int:
    try:
        from retrace_core.boundary.guard import guard
        from retrace_core.boundary.wrappers import recording_function, replaying_function
        from retrace_core.replay.player import TapePlayer
        from retrace_core.tape import codec
        from retrace_core.tape.writer import TapeWriter
    except ImportError as exc:
        print(f"bench_hot_path: retrace_core is not importable by {sys.executable} ({exc})", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="retrace-hot-path-") as scratch:
        tape = TapeWriter(os.path.join(scratch, "tape.bin"))
        namespace = {"time": time, "tape": tape, "guard": guard, "codec": codec, "_thread": _thread,
                     "recorded_leaf": recording_function(time.time, tape, "time.time", False, leaf=True),
                     "recorded": recording_function(time.time, tape, "time.time", False),
                     "lock": _thread.allocate_lock(), "header": b"\x04", "value": time.time(),
                     "nothing": lambda *args, **kwargs: None, "ten": b"0123456789",
                     "os": os, "stat_result": os.stat("."),
                     "recorded_stat": recording_function(os.stat, tape, "os.stat", True)}
        clear = tape._buffer.clear
        rows = [
            ("time.time(), unpatched", per_call("time.time()", namespace)),
            ("time.time() recorded: leaf wrapper + TapeWriter.returned (the real path)",
             per_call("recorded_leaf()", namespace, clear)),
            ("time.time() recorded: general wrapper (sets the guard)", per_call("recorded()", namespace, clear)),
            ("  TapeWriter.returned(header, value) alone", per_call("tape.returned(header, value)", namespace, clear)),
            ("  guard.busy (thread-local read)", per_call("guard.busy", namespace)),
            ("  guard.busy = True; guard.busy = False", per_call("guard.busy = True; guard.busy = False", namespace)),
            ("  call of a def f(*args, **kwargs)", per_call("nothing()", namespace)),
            ("  the single-thread check (_thread._count(), get_ident())",
             per_call("_thread._count() == 0 and _thread.get_ident() == 1", namespace)),
            ("  header + codec.packb(float)", per_call("header + codec.packb(value)", namespace)),
            ("  tape._buffer += 10 bytes", per_call("tape._buffer += ten", namespace, clear)),
            ("  with lock: pass (only once the program has threads)", per_call("with lock: pass", namespace)),
            ("os.stat('.'), unpatched", per_call("os.stat('.')", namespace)),
            ("os.stat('.') recorded: general wrapper, arguments and a stat_result",
             per_call("recorded_stat('.')", namespace, clear)),
            ("  codec.pack_arguments(('.',)) (a tuple: packed by a nested Packer)",
             per_call("codec.pack_arguments(('.',))", namespace)),
            ("  codec.packb(stat_result)", per_call("codec.packb(stat_result)", namespace)),
        ]
        tape.close()

        path = os.path.join(scratch, "replayed.bin")
        write_tape(path, TapeWriter, recording_function)
        with open(path, "rb") as handle:
            data = handle.read()
        build = min(timeit.repeat(lambda: TapePlayer(data, "replayed.bin"), number=1, repeat=3)) / CALLS * 1e9

        def fresh_player() -> None:
            player = TapePlayer(data, "replayed.bin")
            namespace["player"] = player
            namespace["replayed"] = replaying_function(time.time, player, "time.time", False)

        rows += [
            ("time.time() replayed: wrapper + TapePlayer.answer_plain",
             per_call("replayed()", namespace, before=fresh_player)),
            ("  TapePlayer.answer_plain('time.time') alone",
             per_call("player.answer_plain('time.time')", namespace, before=fresh_player)),
            ("  TapePlayer(tape): decompress and decode, per event", build),
        ]
    width = max(len(name) for name, _ in rows)
    print(f"{'':{width}}  ns/call   ({sys.executable}, Python {sys.version.split()[0]})")
    for name, nanoseconds in rows:
        print(f"{name:{width}}  {nanoseconds:7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
