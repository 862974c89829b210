"""A program that walks its whole stack sees the same frames recorded and replayed.

Found in structlog (``inspect.stack()`` in its call-site processor tests): below the
program's first frame lie our launcher's, and the replay had one more of them
(``replay_main``; two under the engine), so ``inspect.stack()`` stat'ed another file where
the tape had the program's next call: "the tape expected os.getpid(), the program asked
for os.stat('…/retrace_core/bootstrap/launch.py')".
"""
from conftest import cli

WALKS_ITS_STACK = """\
import inspect, os, sys

def where():
    return [(info.function, os.path.basename(info.filename)) for info in inspect.stack()]

print(where()[:2])
frame, lines = sys._getframe(), []
while frame is not None:
    lines.append(f"{os.path.basename(frame.f_code.co_filename)} {frame.f_code.co_name} {frame.f_lineno}")
    frame = frame.f_back
print(len(lines), lines[-1].split()[0])
sys.stderr.write("\\n".join(lines) + "\\n")
os.getpid()
"""


def test_inspect_stack_replays_exactly_and_under_the_engine(record, write_program):
    write_program(WALKS_ITS_STACK)
    run = record("program.py")  # the fixture verifies every recording after the test
    assert run.status == 0, run.stderr
    assert run.stdout.splitlines()[0] == "[('where', 'program.py'), ('<module>', 'program.py')]"
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout, replayed.stderr) == (0, run.stdout, run.stderr)
    at_end = cli("inspect", str(run.path), "--at", "end")
    assert at_end.status == 0 and "diverged" not in at_end.stdout + at_end.stderr
