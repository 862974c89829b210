"""Listings of a folder that changes by little are stored as differences, and replay
rebuilds them exactly. pytest lists its base temporary folder before each test: a
5,000-test suite wrote 445 MB, nearly all of it the same names again."""
import json
import subprocess
import sys

from conftest import assert_replay_prints_what_the_recording_printed, cli

PROGRAM = """
import os, sys, tempfile, threading
folder = tempfile.mkdtemp()
total = 0
for index in range(200):
    open(os.path.join(folder, f"test_{index:04}"), "w").close()
    if index % 7 == 0 and index:
        os.remove(os.path.join(folder, f"test_{index - 3:04}"))
    if index == 150 and "--threads" in sys.argv:
        thread = threading.Thread(target=os.listdir, args=(folder,))
        thread.start()
        thread.join()
    names = os.listdir(folder)
    names.sort(reverse=index % 2 == 0)  # in place, as programs do: the next delta must not see it
    total += len(names) + sum(len(name) for name in names) + len(names[0]) * index
print("total", total, "bytes", len(os.listdir(os.fsencode(folder))))
for name in os.listdir(folder):
    os.remove(os.path.join(folder, name))
os.rmdir(folder)
"""


def test_a_growing_folder_is_stored_as_differences_and_replays(record, write_program, tmp_path):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.status == 0, run.stderr
    assert_replay_prints_what_the_recording_printed(run)
    listed = [line for line in cli("events", str(run.path)).stdout.splitlines() if "os.listdir(" in line]
    assert len(listed) == 202
    assert "-> ([0, " in listed[100] or "], [" in listed[100], listed[100]
    state = json.loads(cli("inspect", str(run.path), "--at", "end", "--json", cwd=tmp_path).stdout)
    assert state.get("divergence") is None and state["position"] == state["end"]


def test_with_threads_listings_are_stored_whole(record, write_program):
    write_program(PROGRAM)
    run = record("program.py", "--threads")
    assert run.status == 0, run.stderr
    assert_replay_prints_what_the_recording_printed(run)
    listed = [line for line in cli("events", str(run.path)).stdout.splitlines() if "os.listdir(" in line]
    assert "-> ['test_" in listed[-3] and "-> ([0, " not in listed[-3]


# pytest's make_numbered_dir: os.scandir of the base temporary folder before each test.
SCANNED = """
import os, tempfile
folder = tempfile.mkdtemp()
seen = 0
for index in range(150):
    os.mkdir(os.path.join(folder, f"test_{index:04}"))
    if index % 9 == 0 and index:
        os.rmdir(os.path.join(folder, f"test_{index - 4:04}"))
    with os.scandir(folder) as entries:
        rows = sorted((entry.name, entry.is_dir(), entry.inode() > 0) for entry in entries)
    seen += len(rows) + sum(is_dir for _name, is_dir, _inode in rows) + len(rows[index % len(rows)][0])
print("seen", seen)
for name in os.listdir(folder):
    os.rmdir(os.path.join(folder, name))
os.rmdir(folder)
"""


def test_scandir_listings_of_a_growing_folder_are_stored_as_differences_and_replay(record, write_program):
    write_program(SCANNED)
    run = record("program.py")
    assert run.status == 0, run.stderr
    assert_replay_prints_what_the_recording_printed(run)
    scanned = [line for line in cli("events", str(run.path)).stdout.splitlines() if "os.scandir(" in line]
    assert len(scanned) == 150
    assert "-> ([0, " in scanned[100], scanned[100]


SCANDIR_ENTRIES = """
import os
os.makedirs("d/sub")
with open("d/a.txt", "w") as handle:
    handle.write("hello")
os.symlink("a.txt", "d/link")
os.symlink("sub", "d/dirlink")
os.symlink("missing", "d/broken")
os.mkfifo("d/fifo")
with os.scandir("d") as listing:
    entries = sorted(listing, key=lambda entry: entry.name)
for entry in entries:
    print(entry.name, entry.is_dir(), entry.is_file(), entry.is_symlink(), isinstance(entry, os.DirEntry),
          repr(entry), os.fspath(entry), entry.stat().st_size if entry.is_file() else "-",
          entry.stat(follow_symlinks=False).st_size > 0)
listing = os.scandir("d")
first = next(listing)
print("the rest", sorted(entry.name for entry in listing))
listing = os.scandir("d")
print("after close", [listing.close() for entry in listing])
"""


def test_scandir_entries_are_what_the_program_sees_unrecorded(record, write_program, tmp_path):
    # Recorded, they were stand-ins that os.DirEntry did not own: isinstance said False.
    write_program(SCANDIR_ENTRIES)
    plain = subprocess.run([sys.executable, "program.py"], cwd=tmp_path, capture_output=True, text=True)
    for name in ("d/link", "d/dirlink", "d/broken", "d/fifo", "d/a.txt", "d/sub"):
        (tmp_path / name).unlink() if name != "d/sub" else (tmp_path / name).rmdir()
    (tmp_path / "d").rmdir()
    run = record("program.py")
    assert (run.status, run.stdout) == (0, plain.stdout), run.stderr
    assert "a.txt False True False True <DirEntry 'a.txt'> d/a.txt 5 True" in run.stdout
    assert_replay_prints_what_the_recording_printed(run)


def test_a_symlinks_followed_type_is_an_event_when_asked(record, write_program):
    """A listing used to hold each symlink's followed is_dir()/is_file(), a stat of its
    target per symlink per listing (pytest lists a symlink per test before each test:
    most of what recording a 5,000-test suite cost). Now they are events when the program
    asks, and only for symlinks."""
    write_program("""
        import os
        os.makedirs("d/sub")
        os.symlink("sub", "d/dirlink")
        os.symlink("missing", "d/broken")
        for _ in range(3):
            with os.scandir("d") as listing:
                names = sorted(entry.name for entry in listing)
        with os.scandir("d") as listing:
            print(sorted((entry.name, entry.is_dir(), entry.is_file()) for entry in listing))
    """)
    run = record("program.py")
    assert run.stdout == "[('broken', False, False), ('dirlink', True, False), ('sub', True, False)]\n"
    asked = [line.split("  ")[-1] for line in cli("events", str(run.path)).stdout.splitlines()
             if "os.DirEntry.is_" in line]
    assert sorted(asked) == ["os.DirEntry.is_dir('d/broken') -> False", "os.DirEntry.is_dir('d/dirlink') -> True",
                             "os.DirEntry.is_file('d/broken') -> False", "os.DirEntry.is_file('d/dirlink') -> False"]
    assert_replay_prints_what_the_recording_printed(run)
