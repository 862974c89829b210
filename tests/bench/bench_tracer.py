"""The tracer's cost, in process: ``python tests/bench/bench_tracer.py [--quick]``.

Runs CPU-bound pure Python plain, under the C tracer (counting only, then with stop
conditions set that never hold: a breakpoint in another file, a step predicate for
another thread, a remembered depth), on 3.12+ also under the C tracer's trace function
(the C tracer there uses sys.monitoring), and under the Python reference tracer. Times are
the best of the repeats (the reference runs once); ratios are to the plain run. The
engine's target: replay with the tracer at most 2x the plain run.
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
import threading
import time

import machine

WORKLOADS = {
    # Many lines per call: dicts, strings, arithmetic (like workloads.CPU_PROGRAM).
    "loops": ("""
        def run(rounds):
            counts = {}
            words = []
            total = 0
            for i in range(rounds):
                key = "k" + str(i % 997)
                counts[key] = counts.get(key, 0) + 1
                words.append(key.upper())
                if len(words) == 64:
                    joined = "-".join(sorted(words))
                    total += len(joined.split("-")) + joined.count("K1")
                    words.clear()
                total += (i * i + 7) % 13 - i // 5 % 3
            return total + sum(counts.values())
    """, 3_000_000),
    # Few lines per call: recursion, methods, a generator, a comprehension.
    "calls": ("""
        class Vector:
            def __init__(self, x, y):
                self.x = x
                self.y = y

            def add(self, other):
                return Vector(self.x + other.x, self.y + other.y)

            def norm(self):
                return abs(self.x) + abs(self.y)

        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        def evens(limit):
            for i in range(limit):
                if i % 2 == 0:
                    yield i

        def run(rounds):
            total = 0
            for i in range(rounds):
                v = Vector(i, -i).add(Vector(1, 2))
                total += v.norm() + fib(8)
                total += sum([e * e for e in evens(6)])
            return total
    """, 300_000),
}


def load(name: str, scale: float):
    source, rounds = WORKLOADS[name]
    namespace: dict = {}
    exec(compile(textwrap.dedent(source), f"/bench/{name}.py", "exec"), namespace)
    return namespace["run"], max(1, int(rounds * scale))


def timed(function, rounds: int, tracer=None) -> float:
    start = time.perf_counter()
    if tracer is not None:
        tracer.start()
    try:
        function(rounds)
    finally:
        if tracer is not None:
            tracer.stop()
    return time.perf_counter() - start


def never_stop(reason, frame):
    raise AssertionError(f"the benchmark stopped: {reason}")


def with_conditions(tracer):
    tracer.set_breakpoints([("/bench/elsewhere.py", 3)])
    tracer.set_step(threading.get_ident() + 1, None)
    tracer.set_remember(True, threading.get_ident() + 1, 1)
    return tracer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the work, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    try:
        import retrace_core
        from retrace_core.trace.ctracer import MONITORING, CTracer, SettraceCTracer
        from retrace_core.trace.pytracer import PyTracer
    except ImportError as exc:
        print(f"bench_tracer: retrace_core is not importable by {sys.executable} ({exc})", file=sys.stderr)
        return 2
    scale, repeats = (0.1, 1) if options.quick else (1.0, options.repeats)
    excluded = (os.path.dirname(os.path.abspath(retrace_core.__file__)) + os.sep,)
    print(machine.describe())
    settrace = f" {'C settrace':>15}" if MONITORING else ""
    header = f"{'workload':<9} {'plain s':>8} {'C count':>15} {'C + checks':>15}{settrace} {'Python ref':>15} {'positions':>11}"
    print(header)
    print("-" * len(header))
    for name in WORKLOADS:
        function, rounds = load(name, scale)
        plain = min(timed(function, rounds) for _ in range(repeats))
        counting = [CTracer(excluded, never_stop) for _ in range(repeats)]
        c_count = min(timed(function, rounds, tracer) for tracer in counting)
        c_checks = min(timed(function, rounds, with_conditions(CTracer(excluded, never_stop)))
                       for _ in range(repeats))
        others = [SettraceCTracer(excluded, never_stop) for _ in range(repeats if MONITORING else 0)]
        c_settrace = [min(timed(function, rounds, tracer) for tracer in others)] if others else []
        reference = PyTracer(excluded, never_stop)
        python = timed(function, rounds, reference)
        assert all(tracer.position == counting[0].position for tracer in (reference, *others)), "the tracers disagree"
        cells = " ".join(f"{f'{seconds:6.2f} ({seconds / plain:4.2f}x)':>15}"
                         for seconds in (c_count, c_checks, *c_settrace, python))
        print(f"{name:<9} {plain:8.2f} {cells} {reference.position:>11,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
