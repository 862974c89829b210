"""The readers of a recording against mutated real recordings.

A `.retrace` file is shared (CI artifacts, bug reports), so it is untrusted input. Each
case mutates a real small recording (bit flips, cuts, inflated sizes, crafted msgpack
and extension values, crafted zips: bombs, links, escaping and clashing names) and runs
the readers: `events`, `pids`, `extract` and the packed file's `__main__.py` in this
process, thousands of times; `verify`, `inspect` and the others as real processes for
a sample. Every case must end with exit 0, 1 or 2 and at most one line on stderr.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import zipfile

import lz4.frame
import msgpack
import pytest

from conftest import clean_environment, cli
from retrace_core.tape import archive_main, codec, format
from retrace_core.tape.archive import SHEBANG
from retrace_core.tape.frames import decompress_frames
from retrace_tui.cli import main as retrace_main

PROGRAM = """\
import os, random, subprocess, sys, time
with open(__file__) as handle:
    size = len(handle.read())
child = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
print("size", size, "child", child.stdout.strip(), "draw", random.random() < 2, "t", time.time() > 0)
"""


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> dict:
    """The members of a real recording with two processes, by name, in order."""
    folder = tmp_path_factory.mktemp("fuzz-source")
    (folder / "program.py").write_text(PROGRAM)
    run = cli("record", "-o", "run.retrace", "--", "program.py", cwd=folder)
    assert run.status == 0, run.stderr
    with zipfile.ZipFile(folder / "run.retrace") as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    assert sum(name.endswith(format.TAPE_SUFFIX) for name in members) == 2
    return {"members": members, "bytes": (folder / "run.retrace").read_bytes(), "folder": folder}


# -- building cases -------------------------------------------------------------------


def _zip(members: list[tuple], shebang: bool = True) -> bytes:
    """A zip of (name, data[, external mode, method]) members."""
    buffer = io.BytesIO()
    if shebang:
        buffer.write(SHEBANG)
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in members:
            name, data, mode, method = (*member, None, zipfile.ZIP_DEFLATED)[:4] if len(member) == 2 else (
                (*member, zipfile.ZIP_DEFLATED) if len(member) == 3 else member)
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            info.compress_type = method
            info.external_attr = (mode if mode is not None else 0o100600) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _with(original: dict, **replaced) -> bytes:
    members = dict(original["members"])
    members.update({name.replace("__", "."): data for name, data in replaced.items()})
    return _zip([(name, data) for name, data in members.items() if data is not None])


def _tape_names(original: dict) -> list[str]:
    return sorted(name for name in original["members"] if name.endswith(format.TAPE_SUFFIX))


def _with_stream(original: dict, tape: str, stream: bytes) -> bytes:
    members = dict(original["members"])
    members[tape] = lz4.frame.compress(stream)
    return _zip(list(members.items()))


def _stream(original: dict, tape: str) -> bytes:
    return decompress_frames(original["members"][tape], tape)[0]


def _flip(data: bytes, rng: random.Random, flips: int) -> bytes:
    mutable = bytearray(data)
    for _ in range(flips):
        position = rng.randrange(len(mutable))
        mutable[position] ^= 1 << rng.randrange(8)
    return bytes(mutable)


def _nested_ext(depth: int) -> bytes:
    value = msgpack.packb([], use_bin_type=True)
    for _ in range(depth):
        value = msgpack.packb(msgpack.ExtType(codec.TUPLE, value), use_bin_type=True)
    return value


def _ext(code: int, payload: object) -> bytes:
    return msgpack.packb(msgpack.ExtType(code, msgpack.packb(payload, use_bin_type=True)), use_bin_type=True)


CRAFTED_RECORDS = [
    msgpack.packb([format.DEFINE, "x", 1, 1]), msgpack.packb([format.DEFINE, 9, "f", "flags"]),
    msgpack.packb([format.PROCESS, "oops"]), msgpack.packb([format.PROCESS, {"pid": "1"}]),
    msgpack.packb([format.PROCESS, {"pid": 1, "env": {"A": 1}}]), msgpack.packb([format.THREAD]),
    msgpack.packb([format.MARKER, 1, 2]), msgpack.packb([format.EXIT, [1]]), msgpack.packb([format.FAULT, 5]),
    msgpack.packb([]), msgpack.packb({"a": 1}), msgpack.packb(9999 << 2), msgpack.packb(-5),
    msgpack.packb([format.EXIT, {"exit_status": "x", "failed_tests": 5}]),
    _ext(codec.STRUCTSEQ, ["os.system", ["echo pwned > pwned"], {}]),
    _ext(codec.STR_SUBCLASS, ["socket.gethostbyname", "example.invalid"]),
    _ext(codec.INT_SUBCLASS, ["signal.raise_signal", 15]), _ext(codec.INT_SUBCLASS, ["os.close", 1]),
    _ext(codec.ZONEINFO, "../../../../etc/passwd"), _ext(codec.DECIMAL_INT, "9" * 50000),
    _ext(codec.DATETIME, [b"garbage", "tz"]), _ext(codec.UUID, [b"", 7]),
    msgpack.packb(msgpack.ExtType(99, b"\x00")), _nested_ext(3000),
    b"\x91" * 5000 + b"\xc0", b"\xdd\xff\xff\xff\xff", b"\xc6\x7f\xff\xff\xff", b"\xa3\xff\xfe\xfd",
    b"\xc1", msgpack.packb({(): 1}, use_bin_type=True)[:0] + b"\x81\x90\x01",
]

INDEXES = [
    b'{"format_version": 1, "processes": [{}]}', b'{"format_version": 1, "processes": "oops"}',
    b'{"format_version": 1, "processes": [{"pid": "1"}]}', b'{"format_version": 1, "processes": [1, 2]}',
    b'{"format_version": 1, "processes": [{"pid": 1, "argv": 5, "program": [1]}]}',
    b'{"format_version": 1, "processes": [{"pid": 1, "parent": "x", "failed_tests": 3}]}',
    b'{"format_version": "1"}', b'{"format_version": 99}', b"[]", b"null", b"not json", b"\xff\xfe",
    b"[" * 100000 + b"]" * 100000, b'{"format_version": 1, "processes": [{"pid": 1e400}]}',
    b'{"format_version": 1, "processes": [{"pid": true}]}', b"",
]


def _patch_sizes(data: bytes, name: bytes, size: int) -> bytes:
    """The zip ``data`` with ``name``'s uncompressed size in its central directory and
    local header claimed to be ``size``: a file that lies about what it inflates to."""
    mutable = bytearray(data)
    central = mutable.find(b"PK\x01\x02" + b"", 0)
    while central != -1:
        name_length = struct.unpack_from("<H", mutable, central + 28)[0]
        if bytes(mutable[central + 46:central + 46 + name_length]) == name:
            struct.pack_into("<I", mutable, central + 24, size)
            local = struct.unpack_from("<I", mutable, central + 42)[0] + len(SHEBANG)
            if mutable[local:local + 4] == b"PK\x03\x04":
                struct.pack_into("<I", mutable, local + 22, size)
        central = mutable.find(b"PK\x01\x02", central + 4)
    return bytes(mutable)


def _crafted_zips(original: dict) -> list[tuple[str, bytes]]:
    members = original["members"]
    tape = _tape_names(original)[0]
    main = members[format.ARCHIVE_MAIN]
    index = members[format.INDEX_NAME]
    bomb = b" " * (40 << 20)
    cases = [
        ("index bomb", _with(original, index__json=b"[" + bomb + b"]")),
        ("lying index size", _patch_sizes(_with(original), b"index.json", 0xFFFFFFF0)),
        ("lying tape size", _patch_sizes(_with(original), tape.encode(), 0xFFFFFFF0)),
        ("source bomb", _zip([*members.items(), ("sources/bomb.py", bomb)])),
        ("symlink then member under it", _zip([(format.ARCHIVE_MAIN, main), (format.INDEX_NAME, index),
                                              ("link", "/etc", 0o120777), ("link/passwd", b"x")])),
        ("symlink member", _zip([*members.items(), ("sources/evil", "../../../../tmp", 0o120777)])),
        ("member under a file member", _zip([*members.items(), ("a", b"1"), ("a/b", b"2")])),
        ("file over a folder", _zip([*members.items(), ("a/b", b"1"), ("a", b"2")])),
        ("duplicate member", _zip([*members.items(), (format.INDEX_NAME, b"{}")])),
        ("no index", _zip([(name, data) for name, data in members.items() if name != format.INDEX_NAME])),
        ("no main", _zip([(name, data) for name, data in members.items() if name != format.ARCHIVE_MAIN])),
        ("empty zip", _zip([])),
        ("not a zip", b"#!/usr/bin/env python3\nprint('hello')\n"),
        ("empty file", b""),
        ("stored crc error", _flip_stored(_zip([*members.items(), ("sources/x", b"A" * 4000, None,
                                                                   zipfile.ZIP_STORED)]), b"A" * 4000)),
        ("unknown compression", _method(_with(original), 99)),
    ]
    for escaping in ("../evil", "/tmp/evil-abs", "a/../../evil", "..\\evil", "sub/../../evil", "./../evil",
                     "", "a\x00b"):
        cases.append((f"escaping member {escaping!r}", _zip([*members.items(), (escaping, b"evil")])))
    for number, crafted_index in enumerate(INDEXES):
        cases.append((f"index {number}", _with(original, index__json=crafted_index)))
    return cases


def _flip_stored(data: bytes, content: bytes) -> bytes:
    position = data.find(content)
    return data[:position] + b"B" + data[position + 1:]


def _method(data: bytes, method: int) -> bytes:
    mutable = bytearray(data)
    central = mutable.find(b"PK\x01\x02")
    while central != -1:
        struct.pack_into("<H", mutable, central + 10, method)
        central = mutable.find(b"PK\x01\x02", central + 4)
    return bytes(mutable)


def _random_cases(original: dict, count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    tapes = _tape_names(original)
    streams = {tape: _stream(original, tape) for tape in tapes}
    whole = original["bytes"]
    cases = []
    for number in range(count):
        kind = number % 6
        tape = rng.choice(tapes)
        stream = streams[tape]
        if kind == 0:
            cases.append((f"flip {number}", _flip(whole, rng, rng.randrange(1, 9))))
        elif kind == 1:
            cases.append((f"cut {number}", whole[:rng.randrange(len(whole))]))
        elif kind == 2:
            cases.append((f"stream flip {number}", _with_stream(original, tape, _flip(stream, rng,
                                                                                     rng.randrange(1, 4)))))
        elif kind == 3:
            at = rng.randrange(len(stream))
            crafted = rng.choice(CRAFTED_RECORDS)
            cases.append((f"stream insert {number}", _with_stream(original, tape, stream[:at] + crafted + stream[at:])))
        elif kind == 4:
            cases.append((f"stream cut {number}", _with_stream(original, tape, stream[:rng.randrange(len(stream))])))
        else:
            member = rng.choice([name for name in original["members"] if name != format.ARCHIVE_MAIN])
            cases.append((f"member flip {number} {member}",
                          _with(original, **{member.replace(".", "__"): _flip(original["members"][member], rng,
                                                                              rng.randrange(1, 6))})))
    return cases


# -- running the readers ----------------------------------------------------------------


def _in_process(call) -> tuple[int, str]:
    """(status, stderr) of a reader run here, as a user would see them."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = call()
    return status, err.getvalue()


def _packed_main(path: str, argv: list[str]) -> int:
    saved = sys.argv
    sys.argv = [path, *argv]
    try:
        return archive_main.main(argv)
    finally:
        sys.argv = saved


def _check(name: str, reader: str, status: int, stderr: str) -> None:
    assert status in (0, 1, 2), f"{name}: {reader} exited {status}\n{stderr}"
    assert stderr.count("\n") <= 1, f"{name}: {reader} wrote more than one line on stderr:\n{stderr}"
    assert "Fatal Python error" not in stderr and "Traceback" not in stderr, f"{name}: {reader}:\n{stderr}"


def _run_readers(name: str, data: bytes, folder, extract: bool = True) -> None:
    path = str(folder / "case.retrace")
    with open(path, "wb") as handle:
        handle.write(data)
    target = folder / "out"
    readers = {
        "events": lambda: retrace_main(["events", path]),
        "events --json": lambda: retrace_main(["events", path, "--json"]),
        "pids": lambda: retrace_main(["pids", path]),
        "--list-pids": lambda: _packed_main(path, ["--list-pids"]),
    }
    if extract:
        readers["extract"] = lambda: retrace_main(["extract", path, str(target)])
        readers["--extract"] = lambda: _packed_main(path, ["--extract", str(target)])
    for reader, call in readers.items():
        try:
            status, stderr = _in_process(call)
        except BaseException as exc:  # noqa: BLE001 - any escape is the finding
            raise AssertionError(f"{name}: {reader} raised {type(exc).__name__}: {exc}") from exc
        _check(name, reader, status, stderr)
        if "extract" in reader:
            shutil.rmtree(target, ignore_errors=True)
    escaped = {entry for entry in os.listdir(folder) if entry != "case.retrace"}
    assert not escaped, f"{name}: the readers wrote {escaped} outside their target"
    assert not os.path.exists(os.path.join(folder, "..", "evil")), f"{name}: a member escaped"


@pytest.fixture
def scratch(tmp_path):
    """A folder for the cases, in memory where the machine has one (thousands of
    extractions to a disk folder take longer than the readers themselves)."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else str(tmp_path)
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="retrace-fuzz-", dir=base)) / "cases"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder.parent, ignore_errors=True)


def test_thousands_of_mutated_recordings_end_with_one_line_at_most(original, scratch, monkeypatch):
    monkeypatch.chdir(scratch)
    crafted = _crafted_zips(original)
    cases = crafted + _random_cases(original, 2400, seed=15)
    memory_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for number, (name, data) in enumerate(cases):
        # Extraction writes files: every crafted zip, and a sample of the rest.
        _run_readers(name, data, scratch, extract=number < len(crafted) or number % 8 == 0)
    assert not (scratch / "pwned").exists()
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - memory_before) * 1024
    assert grown < 400 << 20, f"the readers grew this process by {grown >> 20} MiB"


def _limited_memory():
    limit = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _subprocess(arguments: list[str], cwd) -> tuple[int, str]:
    completed = subprocess.run(arguments, cwd=cwd, env=clean_environment(), capture_output=True, text=True,
                               timeout=60, preexec_fn=_limited_memory)
    return completed.returncode, completed.stderr


SAMPLE = ["index bomb", "lying index size", "source bomb", "symlink then member under it", "index 1",
          "stored crc error", "stream flip 2", "stream cut 4"]


def test_a_sample_as_real_processes_with_bounded_memory(original, tmp_path):
    cases = dict(_crafted_zips(original) + _random_cases(original, 60, seed=15))
    sample = [name for name in SAMPLE if name in cases]
    sample += [name for name in cases if name.startswith("stream insert")][:3]
    for name in sample:
        folder = tmp_path / f"case-{len(os.listdir(tmp_path))}"
        folder.mkdir()
        path = folder / "case.retrace"
        path.write_bytes(cases[name])
        runs = {
            "verify": [sys.executable, "-m", "retrace_tui", "verify", str(path)],
            "pids": [sys.executable, "-m", "retrace_tui", "pids", str(path)],
            "events": [sys.executable, "-m", "retrace_tui", "events", str(path)],
            "--list-pids": [sys.executable, str(path), "--list-pids"],
            "--extract": [sys.executable, str(path), "--extract", str(folder / "out")],
        }
        if name.startswith(("stream", "index 0", "index 1")):
            runs["inspect"] = [sys.executable, "-m", "retrace_tui", "inspect", str(path), "--at", "end"]
            runs["replay"] = [sys.executable, "-m", "retrace_tui", "replay", str(path)]
        for reader, command in runs.items():
            status, stderr = _subprocess(command, folder)
            if reader in ("replay",):
                continue  # the program's own exit status and output: what the tape says
            _check(name, reader, status, stderr)
        assert not (folder / "pwned").exists()


def test_a_corrupt_index_is_one_line_for_every_command(original, tmp_path):
    for crafted in (b'{"format_version": 1, "processes": [{}]}', b'{"format_version": 1, "processes": "oops"}'):
        path = tmp_path / "bad.retrace"
        path.write_bytes(_with(original, index__json=crafted))
        for command in (["events"], ["pids"], ["verify"], ["replay"], ["inspect"], ["open"], []):
            run = cli(*command, str(path), cwd=tmp_path, timeout=60)
            assert run.status == 2 and run.stderr.count("\n") == 1, (command, crafted, run.stderr)
            assert "bad index.json" in run.stderr
        status, stderr = _subprocess([sys.executable, str(path), "--list-pids"], tmp_path)
        assert status == 2 and stderr.count("\n") == 1 and "bad index.json" in stderr


def test_the_packed_main_reports_crc_errors_and_missing_index_in_one_line(original, tmp_path):
    members = original["members"]
    crc = _flip_stored(_zip([*members.items(), ("sources/x", b"A" * 4000, None, zipfile.ZIP_STORED)]), b"A" * 4000)
    (tmp_path / "crc.retrace").write_bytes(crc)
    status, stderr = _subprocess([sys.executable, "crc.retrace", "--extract", "out"], tmp_path)
    assert status == 2 and stderr.count("\n") == 1 and "Bad CRC" in stderr
    assert not (tmp_path / "out").exists()
    no_index = _zip([(name, data) for name, data in members.items() if name != format.INDEX_NAME])
    (tmp_path / "none.retrace").write_bytes(no_index)
    status, stderr = _subprocess([sys.executable, "none.retrace", "--list-pids"], tmp_path)
    assert status == 2 and stderr == "none.retrace: not a retrace recording (no index.json)\n".replace(
        "none.retrace", str(tmp_path / "none.retrace"))


def test_a_link_member_and_a_member_under_it_leave_nothing_behind(original, tmp_path):
    members = original["members"]
    data = _zip([(format.ARCHIVE_MAIN, members[format.ARCHIVE_MAIN]), (format.INDEX_NAME, members[format.INDEX_NAME]),
                 ("link", "/etc", 0o120777), ("link/passwd", b"x")])
    (tmp_path / "link.retrace").write_bytes(data)
    run = cli("extract", "link.retrace", "out", cwd=tmp_path)
    assert run.status == 2 and run.stderr.count("\n") == 1 and "symbolic link" in run.stderr
    status, stderr = _subprocess([sys.executable, "link.retrace", "--extract", "out"], tmp_path)
    assert status == 2 and stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
    json.loads(members[format.INDEX_NAME])  # the real index is intact: the refusal is the link's
