"""The filesystem as user code sees it: every answer on the tape is the one the program got."""
import os
import zlib

from conftest import calls, cli


def test_reading_a_data_file_keeps_its_bytes(record, write_program, tmp_path):
    data = b'{"apple": 1.25, "pear": 0.75}'
    (tmp_path / "prices.json").write_bytes(data)
    write_program("""
        import json
        with open("prices.json") as handle:
            prices = json.load(handle)
        print(sorted(prices.items()))
        with open("prices.json", "rb") as handle:
            print(handle.read(5), handle.tell(), handle.seek(0), handle.read())
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    tape = run.tape()
    opens = calls(tape, "io.open")
    assert [e.arguments for e in opens] == [("prices.json", "r"), ("prices.json", "rb")]
    reads = b"".join(e.value for e in calls(tape, "file.read") if isinstance(e.value, bytes))
    assert data in reads
    assert run.stdout.splitlines()[0] == "[('apple', 1.25), ('pear', 0.75)]"


def test_writes_keep_length_and_crc_and_world_changes_are_events(record, write_program, tmp_path):
    write_program("""
        import os
        os.mkdir("out")
        with open("out/report.txt", "w") as handle:
            handle.write("total: 3\\n")
        os.rename("out/report.txt", "out/final.txt")
        os.replace("out/final.txt", "out/last.txt")
        os.chmod("out/last.txt", 0o600)
        os.utime("out/last.txt", (1, 2))
        print(os.stat("out/last.txt").st_mtime, os.path.exists("nope"), os.access("out", os.W_OK))
        os.symlink("last.txt", "out/link")
        print(os.readlink("out/link"), sorted(os.listdir("out")))
        print(sorted(entry.name for entry in os.scandir("out") if entry.is_file(follow_symlinks=False)))
        os.unlink("out/link"); os.remove("out/last.txt"); os.rmdir("out")
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    tape = run.tape()
    names = [e.function for e in tape.events]
    for function in ("os.mkdir", "os.rename", "os.replace", "os.chmod", "os.utime", "os.symlink",
                     "os.readlink", "os.listdir", "os.scandir", "os.unlink", "os.remove", "os.rmdir"):
        assert function in names, function
    write = calls(tape, "file.write")[0]
    assert write.arguments[1] == [9, zlib.crc32(b"total: 3\n")]
    lines = run.stdout.splitlines()
    assert lines[0] == "2.0 False True"
    assert lines[1] == "last.txt ['last.txt', 'link']"
    assert lines[2] == "['last.txt']"
    listing = calls(tape, "os.scandir")[0].value
    assert sorted(row[0] for row in listing) == ["last.txt", "link"]
    assert not (tmp_path / "out").exists()


def test_missing_file_error_is_recorded_and_raised(record, write_program):
    write_program("""
        try:
            open("missing.txt")
        except FileNotFoundError as exc:
            print(exc.errno, exc.filename)
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    failed = calls(run.tape(), "io.open")[0]
    assert failed.raised
    module, qualname, arguments, extra = failed.value
    assert qualname == "FileNotFoundError" and extra["filename"] == "missing.txt"
    assert run.stdout.strip() == "2 missing.txt"


def test_tempfile_names_and_files(record, write_program):
    write_program("""
        import os, tempfile
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "x.txt")
            with open(path, "w") as handle:
                handle.write("hi")
            print(os.listdir(folder))
        with tempfile.NamedTemporaryFile("w+", suffix=".txt") as handle:
            handle.write("abc"); handle.seek(0); print(handle.read())
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    assert run.stdout.splitlines() == ["['x.txt']", "abc"]
    names = {e.function for e in run.tape().events}
    assert {"os.mkdir", "os.open", "os.rmdir", "os.unlink", "os.urandom"} <= names


def test_pathlib_glob_lists_through_the_tape(record, write_program, tmp_path):
    # From 3.13 on pathlib's glob keeps os.scandir and os.lstat from its import, before ours.
    (tmp_path / "data").mkdir()
    for name in ("a.txt", "b.txt", "c.csv"):
        (tmp_path / "data" / name).write_text(name)
    write_program("""
        import glob, pathlib
        print(sorted(path.name for path in pathlib.Path("data").glob("*.txt")))
        print(sorted(path.name for path in pathlib.Path(".").rglob("*.csv")))
        print(sorted(glob.glob("data/*.csv")))
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0, run.stderr
    assert run.stdout.splitlines() == ["['a.txt', 'b.txt']", "['c.csv']", "['data/c.csv']"]
    assert "data" in [e.arguments[0] for e in calls(run.tape(), "os.scandir")]
    for path in (tmp_path / "data").iterdir():
        path.unlink()
    verified = cli("verify", str(run.path))
    assert verified.status == 0, verified.stdout


def test_file_locks_are_answered_from_the_tape(record, write_program):
    """Found in filelock's suite: ``fcntl.flock`` on a descriptor from ``os.open`` ran for
    real in the replay, where no file is opened, and failed (EBADF): the replayed worker
    thread raised where the recorded one had the lock, and the replay diverged."""
    write_program("""
        import fcntl, os
        first = os.open("data.lock", os.O_RDWR | os.O_CREAT, 0o644)
        second = os.open("data.lock", os.O_RDWR)
        os.fchmod(first, 0o644)  # as filelock does before it locks
        fcntl.flock(first, fcntl.LOCK_EX)
        try:
            fcntl.flock(second, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("second locked too")
        except BlockingIOError as exc:
            print("second waits:", exc.errno == 11 or exc.errno)
        fcntl.flock(first, fcntl.LOCK_UN)
        fcntl.flock(second, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("second has it")
        fcntl.lockf(second, fcntl.LOCK_UN)
        print("close on exec:", bool(fcntl.fcntl(first, fcntl.F_GETFD) & fcntl.FD_CLOEXEC))
        os.close(first)
        os.close(second)
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    assert run.stdout == "second waits: True\nsecond has it\nclose on exec: True\n"
    assert [e.arguments[1] for e in calls(run.tape(), "fcntl.flock")][:2] == [2, 6]
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout), replayed.stderr


def test_raw_files_the_program_makes_itself_replay(record, write_program):
    """Found in tornado's suite: ``PipeIOStream`` wraps an ``os.pipe()`` descriptor in
    ``io.FileIO(fd, "r+")``, which ran for real in the replay, where the pipe was only on
    the tape: EBADF, and the replay diverged. ``io.FileIO`` must also stay the class of
    every raw file the program sees, as without us."""
    write_program("""
        import io, os, sys
        r, w = os.pipe()
        reader = io.FileIO(r, "r+")
        os.write(w, b"hello world")
        print("read:", reader.read(5), reader.readinto(bytearray(3)), reader.closed, reader.mode)
        print("same fd:", reader.fileno() == r, type(reader).__name__, repr(reader).startswith("<_io.FileIO name="))
        print("kept open:", repr(io.FileIO(w, "w", closefd=False)).endswith("closefd=False>"))
        reader.close()
        os.close(w)
        print("closed:", reader.closed, repr(reader))
        with io.FileIO("data.bin", "w") as f:
            print("wrote:", f.write(b"abc" * 10), f.tell())
        with io.BufferedReader(io.FileIO("data.bin")) as f:
            print("file:", f.read(6), f.raw.name, f.raw.seekable())
        with open("data.bin", "rb", buffering=0) as f:
            print("instances:", isinstance(f, io.FileIO), isinstance(getattr(sys.stdout.buffer, "raw", None), io.FileIO),
                  issubclass(io.FileIO, io.RawIOBase))
        try:
            io.FileIO("missing.bin")
        except FileNotFoundError as exc:
            print("missing:", exc.errno)
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    assert run.stdout == ("read: b'hello' 3 False rb+\nsame fd: True FileIO True\nkept open: True\n"
                          "closed: True <_io.FileIO [closed]>\n"
                          "wrote: 30 30\nfile: b'abcabc' data.bin True\ninstances: True True True\nmissing: 2\n")
    assert [e.arguments[1] for e in calls(run.tape(), "io.FileIO")] == ["r+", "w", "w", "r", "r"]
    os.remove(run.path.parent / "data.bin")
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout), replayed.stderr
    inspected = cli("inspect", str(run.path), "--at", "end")
    assert inspected.status == 0 and "diverged" not in inspected.stdout + inspected.stderr, inspected.stdout


def test_files_mapped_into_memory_replay_with_their_bytes(record, write_program):
    """Found in werkzeug's suite: ``multiprocessing.Value`` lives in a file of
    ``/dev/shm`` mapped with ``mmap``, which the replay, whose descriptors are only on the
    tape, could not map: it raised, and the replay diverged at the next call. What a
    mapping reads is the file's bytes when it was mapped."""
    write_program("""
        import ctypes, mmap, multiprocessing, os
        counter = multiprocessing.Value("i", 41)
        counter.value += 1
        shared = multiprocessing.Array("d", [0.5, 1.5])
        print("shared:", counter.value, shared[:], sum(shared))
        with open("data.bin", "wb") as f:
            f.write(b"header.." + b"payload " * 1024 + b"the end")
        with open("data.bin", "r+b") as f:
            whole = mmap.mmap(f.fileno(), 0)
            print("whole:", whole[:8], len(whole), whole.size(), whole.find(b"the end"), type(whole).__name__,
                  isinstance(whole, mmap.mmap))
            whole[0:6] = b"HEADER"
            whole.flush()
            number = ctypes.c_char.from_buffer(whole, 3)
            print("buffer:", number.value)
            del number
            whole.close()
            at = mmap.mmap(f.fileno(), 16, access=mmap.ACCESS_READ, offset=mmap.ALLOCATIONGRANULARITY)
            print("offset:", at[:7], at.size())
            try:
                at[0:1] = b"x"
            except TypeError as exc:
                print("read-only:", exc)
            at.close()
        print("file:", open("data.bin", "rb").read(8))
        anonymous = mmap.mmap(-1, 32)
        anonymous.write(b"scratch")
        print("anonymous:", anonymous[:7])
        try:
            mmap.mmap(99, 10)
        except OSError as exc:
            print("bad descriptor:", exc.errno)
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    assert run.stdout == (
        "shared: 42 [0.5, 1.5] 2.0\n"
        "whole: b'header..' 8207 8207 8200 mmap True\n"
        "buffer: b'D'\n"
        "offset: b'payload' 8207\n"
        "read-only: mmap can't modify a readonly memory map.\n"
        "file: b'HEADER..'\n"
        "anonymous: b'scratch'\n"
        "bad descriptor: 9\n"), run.stderr
    os.remove(run.path.parent / "data.bin")
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout), replayed.stderr
    inspected = cli("inspect", str(run.path), "--at", "end")
    assert inspected.status == 0 and "diverged" not in inspected.stdout + inspected.stderr, inspected.stdout
