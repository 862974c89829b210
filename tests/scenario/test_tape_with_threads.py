"""Threads that make boundary calls at the same moment write a readable tape.

Found in filelock's suite: the tape's packers were shared, and packing a tuple or a
stat_result runs Python code where another thread could take over and pack with the
same packer; one event's bytes then held another's, and `events`, `verify` and the
engine stopped at "corrupt tape". A tiny switch interval makes such a switch likely.
"""
from conftest import cli

PROGRAM = """
import os, sys, tempfile, threading

sys.setswitchinterval(1e-6)
folder = tempfile.mkdtemp()
path = os.path.join(folder, "a")

def work():
    for _ in range(300):
        try:
            os.mkdir(folder)
        except FileExistsError:
            pass
        os.stat(folder, follow_symlinks=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.close(fd)

threads = [threading.Thread(target=work) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
os.remove(path)
os.rmdir(folder)
print("done")
"""


def test_boundary_calls_from_many_threads_at_once_leave_a_readable_tape(record, write_program):
    write_program(PROGRAM)
    for attempt in range(3):
        run = record("program.py", name=f"run-{attempt}.retrace")
        assert (run.status, run.stdout) == (0, "done\n"), run.stderr
        listed = cli("events", str(run.path))
        assert listed.status == 0 and listed.stderr == "", listed.stderr
        assert listed.stdout.count("os.stat(") == 6 * 300
