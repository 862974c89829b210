"""A program that walks its whole stack sees the same frames recorded and replayed.

Found in structlog (``inspect.stack()`` in its call-site processor tests): below the
program's first frame lie our launcher's, and the replay had one more of them
(``replay_main``; two under the engine), so ``inspect.stack()`` stat'ed another file where
the tape had the program's next call: "the tape expected os.getpid(), the program asked
for os.stat('…/retrace_core/bootstrap/launch.py')".
"""
import re

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


LOOKS_UP_A_MODULE_AFTER_A_CHILD = """\
import inspect, os, random, socket, subprocess, sys, tempfile, threading, time

subprocess.run([sys.executable, "-c", "pass"], check=True)
# A code object has no __module__: getmodule maps every module's file (a stat and a
# realpath each), as pytest's failure report does through inspect.findsource.
print(inspect.getmodule(compile("1", "nowhere.py", "eval")))
# More of the boundary: whatever of ours it imports must be there in the replay too.
worker = threading.Thread(target=time.sleep, args=(0.01,))
worker.start(); worker.join()
left, right = socket.socketpair(); left.sendall(b"x"); right.recv(1); left.close(); right.close()
with tempfile.TemporaryDirectory() as folder:
    with open(os.path.join(folder, "f"), "w") as handle:
        handle.write(str(random.random()))
    print([entry.name for entry in os.scandir(folder)])
print(sorted(name for name in sys.modules if name.split(".")[0] in ("retrace_core", "msgpack")))
"""


def test_the_modules_a_program_can_see_are_the_same_after_starting_a_child(record, write_program):
    """Found in setuptools-scm: starting a recorded child imported our launcher as a module
    in the recording only, so the failure report's ``inspect.getmodule`` stat'ed one more
    file there: "the tape expected os.lstat('/work'), the program asked for io.open(…)"."""
    write_program(LOOKS_UP_A_MODULE_AFTER_A_CHILD)
    run = record("program.py")
    assert run.status == 0, run.stderr
    verified = cli("verify", str(run.path))
    assert verified.status == 0 and "matched" in verified.stdout, verified.stdout + verified.stderr
    at_end = cli("inspect", str(run.path), "--at", "end")
    assert at_end.status == 0 and "diverged" not in at_end.stdout + at_end.stderr, at_end.stdout + at_end.stderr


PRINTS_WHAT_FAILED_IN_C = """\
import socket, sys, threading

def fails():
    socket.socket().recv(1)  # a boundary call that raises: not connected

def calls_the_hook():
    try:
        fails()
    except OSError:
        sys.excepthook(*sys.exc_info())

worker = threading.Thread(target=calls_the_hook)
worker.start(); worker.join()
worker = threading.Thread(target=fails)  # threading.excepthook prints what it raised
worker.start(); worker.join()

class Holder:
    def __del__(self):  # sys.unraisablehook prints what a finalizer raised
        fails()

holder = Holder()
del holder
print(sys.excepthook is sys.__excepthook__, threading.excepthook is threading.__excepthook__,
      sys.unraisablehook is sys.__unraisablehook__)
"""


def test_the_interpreters_own_printers_leave_our_frames_out(record, write_program):
    """Found in trustme's suite: a thread calls ``sys.excepthook`` for an error of a
    boundary call; the interpreter's printer (C) showed our wrapper's frame, which is
    ``recorded`` at one line recording and ``replayed`` at another replaying: "the program
    wrote other bytes than recorded"."""
    write_program(PRINTS_WHAT_FAILED_IN_C)
    run = record("program.py")  # the fixture verifies every recording
    assert (run.status, run.stdout) == (0, "True True True\n"), run.stderr
    assert run.stderr.count("OSError: [Errno 107] Transport endpoint is not connected") == 3, run.stderr
    assert "retrace_core" not in run.stderr and "/core/" not in run.stderr, run.stderr
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout)
    at = re.compile(r" at 0x[0-9a-f]+")  # "Exception ignored in: <function Holder.__del__ at 0x…>"
    assert at.sub("", replayed.stderr) == at.sub("", run.stderr)
