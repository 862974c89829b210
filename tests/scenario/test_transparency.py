"""The recorder is invisible to the program: what it wraps answers questions about
itself as the original does (type, __class__, __module__, __qualname__, isinstance,
repr, pickle, copy, weakref), recorded and replayed. trio checks
``lock.__class__.__module__ == "_thread"``; before the fix 19 of a suite's tests failed
under recording with TrioInternalError.
"""
import json
import os
import subprocess
import sys

from conftest import clean_environment, cli

PROGRAM = 'import _thread, copy, inspect, pickle, re, threading, weakref\n\n\ndef shown(value):\n    return re.sub(r"0x[0-9a-f]+", "0x…", str(value))\n\n\ndef fact(name, compute):\n    try:\n        value = compute()\n    except Exception as error:\n        value = f"raises {type(error).__name__}: {error}"\n    print(name, shown(value))\n\n\nfor label, make in [("Lock", threading.Lock), ("RLock", threading.RLock), ("allocate_lock", _thread.allocate_lock)]:\n    lock = make()\n    fact(f"{label} class module", lambda: lock.__class__.__module__)\n    fact(f"{label} class", lambda: lock.__class__)\n    fact(f"{label} type", lambda: type(lock))\n    fact(f"{label} type module", lambda: type(lock).__module__)\n    fact(f"{label} qualname", lambda: type(lock).__qualname__)\n    fact(f"{label} isinstance LockType", lambda: isinstance(lock, _thread.LockType))\n    fact(f"{label} isinstance RLock type", lambda: isinstance(lock, type(threading.RLock())))\n    fact(f"{label} repr", lambda: repr(lock))\n    fact(f"{label} weakref", lambda: weakref.ref(lock)() is lock)\n    fact(f"{label} copy", lambda: copy.copy(lock))\n    fact(f"{label} deepcopy", lambda: copy.deepcopy(lock))\n    fact(f"{label} pickle", lambda: pickle.dumps(lock))\n    fact(f"{label} acquire signature", lambda: inspect.signature(lock.acquire))\n    fact(f"{label} with", lambda: [lock.acquire(), lock.locked() if hasattr(lock, "locked") else "-", lock.release()])\nfact("threading.Lock is a type", lambda: isinstance(threading.Lock, type))\nfact("threading.Lock repr", lambda: threading.Lock)\nfact("isinstance(threading.Lock(), threading.Lock)",\n     lambda: isinstance(threading.Lock(), threading.Lock) if isinstance(threading.Lock, type) else "n/a")\nfact("Condition", lambda: type(threading.Condition()._lock).__name__)\n\nimport datetime, os, random, select, socket, subprocess, sys, time\nfor name, function in [("time.time", time.time), ("time.sleep", time.sleep), ("time.monotonic", time.monotonic),\n                       ("os.urandom", os.urandom), ("os.getpid", os.getpid), ("os.listdir", os.listdir),\n                       ("os.stat", os.stat), ("random.random", random.random), ("random.Random.seed", random.Random.seed),\n                       ("datetime.datetime.now", datetime.datetime.now), ("open", open), ("select.select", select.select),\n                       ("socket.socket", socket.socket), ("subprocess.Popen", subprocess.Popen),\n                       ("sys.stdout.write", sys.stdout.write)]:\n    fact(f"{name} repr", lambda: repr(function))\n    fact(f"{name} module", lambda: getattr(function, "__module__", "-"))\n    fact(f"{name} qualname", lambda: getattr(function, "__qualname__", "-"))\n    fact(f"{name} type", lambda: type(function).__name__)\n    fact(f"{name} pickle", lambda: pickle.loads(pickle.dumps(function)) is function)\n    fact(f"{name} copy", lambda: copy.copy(function) is function)\nclass Holder:\n    clock = time.time\n    make = threading.Lock\nfact("time.time on a class", lambda: type(Holder().clock()).__name__)\nfact("Lock on a class", lambda: type(Holder().make()).__name__)\nfact("stdout type", lambda: type(sys.stdout))\nfact("stdout class", lambda: sys.stdout.__class__)\n'

# What still differs, and why (each a line prefix of the program's output):
KNOWN = {
    # Our lock's acquire is a Python method; the C one has no signature on 3.11-3.12.
    "Lock acquire signature", "RLock acquire signature", "allocate_lock acquire signature",
    # os.urandom is posix.urandom, which stays unpatched (the engine calls posix directly):
    # pickle looks a built-in up by its __module__, and would find the original there and
    # refuse ours, so ours names os, where pickle finds it. The same for open, which is
    # _io.open from 3.12 on (_io is how the import system reads files, and stays
    # unpatched): ours names io, as open did up to 3.11.
    "os.urandom module", "os.getpid module", "os.listdir module", "os.stat module",
    *(("open module",) if sys.version_info >= (3, 12) else ()),
}


def differences(plain: str, recorded: str) -> list:
    plain_lines, recorded_lines = plain.splitlines(), recorded.splitlines()
    assert len(plain_lines) == len(recorded_lines)
    return [(a, b) for a, b in zip(plain_lines, recorded_lines)
            if a != b and not any(a.startswith(known + " ") for known in KNOWN)]


def test_wrapped_objects_look_like_the_originals(record, write_program, tmp_path):
    write_program(PROGRAM)
    plain = subprocess.run([sys.executable, "program.py"], cwd=tmp_path, env=clean_environment(),
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0, plain.stderr
    run = record("program.py")
    assert run.status == 0, run.stderr
    assert differences(plain.stdout, run.stdout) == []
    assert "Lock class module _thread" in run.stdout and "Lock isinstance LockType True" in run.stdout


TRAVELLER = """
import datetime, time
import time_machine

with time_machine.travel("1980-03-25 16:00:00", tick=False):
    print(datetime.datetime.now().isoformat(), int(time.time()))
# Travel over, time-machine calls its saved originals (ours) through their C pointers,
# each with its own calling convention: no arguments, a tuple, fast calls.
print(datetime.datetime.now().year > 2000, time.time() > 1e9, time.time_ns() > 1e18,
      time.monotonic() > 0, time.gmtime(0).tm_year, time.localtime().tm_year > 2000,
      time.strftime("%Y", time.gmtime(0)), datetime.datetime.now(datetime.timezone.utc).year > 2000)
"""


def test_a_c_extension_that_swaps_the_clocks_c_functions_runs_and_replays(record, write_program):
    """time-machine reads ``time.time`` and ``datetime.now`` as C functions and swaps their
    C pointers: the recorded process died of SIGSEGV when it found Python wrappers."""
    write_program(TRAVELLER)
    run = record("program.py")
    assert (run.status, run.stdout) == (0, "1980-03-25T16:00:00 322848000\n"
                                         "True True True True 1970 True 1970 True\n"), run.stderr


SIGNAL_TAKERS = """
import os, signal, time
signal.signal(signal.SIGTERM, lambda *_: None)
time.sleep(0.3)  # the recorder's tape flusher is running by now
takers = []
for task in sorted(os.listdir("/proc/self/task")):
    with open(f"/proc/self/task/{task}/status") as status:
        blocked = next(int(line.split()[1], 16) for line in status if line.startswith("SigBlk:"))
    takers.append(not blocked >> (signal.SIGTERM - 1) & 1)
print("threads that can take SIGTERM:", sum(takers))
"""


def test_a_signal_to_a_recorded_program_can_only_reach_its_own_threads(record, write_program, tmp_path):
    """The kernel gives a process's signal to any thread that does not block it; Python runs
    the handler in the main thread only when it next looks. A signal that landed in the
    recorder's flusher left a `time.sleep(30)` in the main thread asleep for all 30 s
    (`kill` sent to `record` did nothing: a clean-clone CI saw it)."""
    write_program(SIGNAL_TAKERS)
    plain = subprocess.run([sys.executable, "program.py"], cwd=tmp_path, env=clean_environment(),
                           capture_output=True, text=True, timeout=60)
    assert plain.stdout == "threads that can take SIGTERM: 1\n", plain.stderr
    run = record("program.py")
    assert (run.status, run.stdout) == (0, plain.stdout), run.stderr


def test_a_process_pool_runs_a_patched_function_in_its_workers(record, write_program):
    """``pool.apply(os.getpid)`` pickles ``os.getpid`` by its ``__module__`` and name:
    recorded, pickle found the real ``posix.getpid`` under that name, refused ours, and the
    program died of PicklingError where it printed its workers' pids plain."""
    write_program("""
        import concurrent.futures, multiprocessing, os, pickle

        if __name__ == "__main__":
            with multiprocessing.Pool(2) as pool:
                print("pool", pool.apply(os.getpid) != os.getpid())
            with concurrent.futures.ProcessPoolExecutor(1) as executor:
                print("executor", executor.submit(os.getpid).result() != os.getpid())
            print("pickled", pickle.loads(pickle.dumps(os.getpid)) is os.getpid,
                  pickle.loads(pickle.dumps(open)) is open)
    """)
    run = record("program.py")  # the fixture verifies it
    assert run.status == 0 and run.stdout == "pool True\nexecutor True\npickled True True\n", run.stderr


RAW_FILES = """
import functools, io, os

@functools.singledispatch
def kind(file):
    return "unsupported"

@kind.register(io.FileIO)
def _(file):
    return "raw"

@kind.register(io.BufferedReader)
def _(file):
    return "buffered"

with open("program.py", "rb", buffering=0) as raw, open("program.py", "rb") as buffered:
    made = io.FileIO(os.open("program.py", os.O_RDONLY), "r")
    for file in (raw, buffered, buffered.raw, made):
        print(kind(file), isinstance(file, io.FileIO), issubclass(type(file), io.FileIO),
              issubclass(type(file), io.RawIOBase))
    made.close()
"""


def test_a_raw_file_dispatches_as_a_file_io(record, write_program, tmp_path):
    """aiofiles wraps what ``open(..., buffering=0)`` returns by ``functools.singledispatch``
    on ``io.FileIO``: recorded, our raw file was an instance of it but not a subclass, and
    46 of its tests failed "Unsupported io type"."""
    write_program(RAW_FILES)
    plain = subprocess.run([sys.executable, "program.py"], cwd=tmp_path, env=clean_environment(),
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.splitlines()[0] == "raw True True True"
    run = record("program.py")  # verified too
    assert (run.status, run.stdout) == (0, plain.stdout), run.stderr


def test_a_module_imported_again_or_reloaded_is_still_on_the_boundary(record, write_program):
    # blessed's tests take fcntl and termios out of sys.modules and import them again: a new
    # module, whose functions were the unpatched ones, so their calls went untaped and a
    # replay ran them on descriptors it does not have open. A reload must not patch twice.
    write_program("""
        import importlib, sys, time
        first = time.time()
        del sys.modules["time"]
        import time as again
        print("again", again is not time, again.time() - first < 60, again.time())
        importlib.reload(again)
        print("reloaded", again.time())
    """)
    run = record("program.py")  # the fixture verifies it
    assert run.status == 0 and run.stdout.startswith("again True True "), run.stderr
    listed = cli("events", str(run.path), "--json")
    assert [event["function"] for event in json.loads(listed.stdout)].count("time.time") == 4


FINDER_ON_TOP = """
import sys


class Finder:
    def find_spec(self, fullname, path=None, target=None):
        return None


before = list(sys.meta_path)
finder = Finder()
sys.meta_path.insert(0, finder)
import json
sys.meta_path.pop(0)
print("popped:", finder not in sys.meta_path, list(sys.meta_path) == before)
sys.meta_path.insert(0, finder)
del sys.meta_path[0]
print("deleted:", finder not in sys.meta_path, list(sys.meta_path) == before)
"""


def test_a_finder_put_on_top_and_popped_off_is_gone(record, write_program):
    # pyfakefs inserts its finder at sys.meta_path[0] for a test and pops index 0 after it.
    # Ours stayed first, so the pop took ours and left its finder, whose patcher was
    # gone: every later import failed (an INTERNALERROR, 22 failed tests of its suite).
    write_program(FINDER_ON_TOP)
    run = record("program.py")
    assert run.status == 0, run.stderr
    assert run.stdout == "popped: True True\ndeleted: True True\n"


FAKE_FILE_SYSTEM = """
import os
import pathlib

from pyfakefs.fake_filesystem_unittest import Patcher

with Patcher() as patcher:
    patcher.fs.create_file("/data/notes.txt", contents="hello")
    print(open("/data/notes.txt").read(), os.listdir("/data"))
    path = pathlib.Path("/data/more.txt")
    with path.open("w", encoding="utf8") as handle:
        handle.write("written")
    print(path.read_text(), sorted(os.listdir("/data")))
print(os.path.exists("/data/notes.txt"))
"""


def test_a_fake_file_system_replays(record, write_program):
    # pyfakefs swaps the file-system functions held by every module, ours too: replayed, a
    # file opened on the fake file system made the replay's own posix.open a fake that asks
    # os.umask first, and the replay diverged (pyfakefs's suite at its first such test).
    write_program(FAKE_FILE_SYSTEM)
    run = record("program.py")  # (the fixture verifies the recording)
    assert run.status == 0, run.stderr
    assert run.stdout == "hello ['notes.txt']\nwritten ['more.txt', 'notes.txt']\nFalse\n"


FILE_REPRS = """
import tempfile

unbuffered = tempfile.TemporaryFile(buffering=0)
buffered = tempfile.TemporaryFile()
print(repr(unbuffered), unbuffered.name, type(unbuffered).__name__)
print(repr(buffered), repr(buffered.raw))
with open(__file__) as text:
    print(repr(text), repr(text.buffer), repr(text.buffer.raw))
unbuffered.close()
print(repr(unbuffered))
"""


def test_files_look_and_number_as_in_a_plain_run(record, write_program, tmp_path):
    # pytest's fd capture prints its buffer's repr, and a test of its suite printed
    # sys.stdout: recorded, the raw file was "<RecordedFile name=4 ...>" (the tape held
    # descriptor 3), replayed "<ReplayedFile ...>", and the replay diverged.
    write_program(FILE_REPRS)
    plain = subprocess.run([sys.executable, "program.py"], cwd=tmp_path, env=clean_environment(),
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0, plain.stderr
    assert "<_io.FileIO name=3 mode='rb+' closefd=True> 3 FileIO" in plain.stdout
    run = record("program.py")  # (the fixture verifies the recording)
    assert run.status == 0, run.stderr
    assert run.stdout == plain.stdout


def test_a_descriptor_the_program_inherits_is_there_recorded(write_program, tmp_path):
    # make hands its jobserver's pipe down as descriptors; a plain run inherits them, and
    # `record` closed every descriptor but 0, 1 and 2 on its way to the program.
    write_program("""
        import os, sys
        os.write(int(sys.argv[1]), b"token")
        print("wrote")
    """)
    read_end, write_end = os.pipe()
    try:
        completed = subprocess.run([sys.executable, "-m", "retrace_tui", "record", "-o", "run.retrace", "--",
                                    "program.py", str(write_end)], cwd=tmp_path, env=clean_environment(),
                                   pass_fds=(write_end,), capture_output=True, text=True, timeout=120)
        os.close(write_end)
        write_end = -1
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout == "wrote\n"
        assert os.read(read_end, 100) == b"token"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    assert json.loads(cli("verify", "--json", "run.retrace", cwd=tmp_path).stdout)["matched"]
