"""Replay: exact, repeatable, and loud when it cannot be exact."""
import hashlib
import json
import os
import struct

import lz4.frame

from conftest import cli


def test_twenty_replays_print_identical_bytes(record, write_program):
    write_program("""
        import datetime, os, random, time, uuid
        print(random.random(), random.getrandbits(70))
        items = list(range(20)); random.shuffle(items); print(items)
        print(hash("retrace"), sorted({"a", "b", "c"}) == list({"a", "b", "c"}), list({"x", "y", "z", "w"}))
        print(uuid.uuid4(), datetime.datetime.now())
        print(time.perf_counter_ns(), time.process_time(), os.getrandom(8).hex())
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    outputs = {cli("replay", str(run.path)).stdout for _ in range(20)}
    assert outputs == {run.stdout}


def extracted(run, tmp_path):
    folder = tmp_path / "extracted"
    assert cli("extract", str(run.path), str(folder)).status == 0
    return folder


def test_edited_source_still_verifies_with_a_notice(record, write_program, tmp_path):
    write_program("def value():\n    return 41\n", name="helper.py")
    write_program("import helper, time\nprint(helper.value() + 1, time.time() > 0)\n")
    run = record("program.py")
    (tmp_path / "helper.py").write_text("def value():\n    return 99\n")
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0, verdict.stdout
    assert "helper.py differs from the recorded source" in verdict.stdout
    replayed = cli("replay", str(run.path))
    assert replayed.stdout == "42 True\n"
    assert "helper.py differs" in replayed.stderr


def test_a_changed_event_value_fails_verify_at_that_event(record, write_program, tmp_path):
    write_program("import time\nfirst = time.time()\nsecond = time.time()\nprint(second - first >= 0)\n")
    run = record("program.py", verify_after=False)
    tape_events = run.tape().events
    target = next(e for e in tape_events if e.function == "time.time")
    folder = extracted(run, tmp_path)
    tape = next(folder.glob("*.bin"))
    stream = b"".join(_frames(tape.read_bytes()))
    original = b"\xcb" + struct.pack(">d", target.value)
    assert stream.count(original) == 1
    tape.write_bytes(lz4.frame.compress(stream.replace(original, b"\xcb" + struct.pack(">d", target.value + 1e6))))
    verdict = cli("verify", str(folder), "--json")
    assert verdict.status == 1
    report = json.loads(verdict.stdout)["divergence"]
    assert report["kind"] == "output"  # the program printed False instead of True
    plain = cli("verify", str(folder))
    assert "replay diverged" in plain.stdout and "event" in plain.stdout


def _frames(data):
    while data:
        decompressor = lz4.frame.LZ4FrameDecompressor()
        yield decompressor.decompress(data)
        data = decompressor.unused_data or b""


def test_a_different_call_is_caught_at_its_event_number(record, write_program, tmp_path):
    write_program("import os, time\nos.getpid()\ntime.time()\nprint('done')\n")
    run = record("program.py", verify_after=False)
    folder = extracted(run, tmp_path)
    manifest_path = next(folder.glob("sources/manifest.*.json"))
    manifest = json.loads(manifest_path.read_text())
    edited = "import os, time\ntime.time()\nos.getpid()\nprint('done')\n"
    for entry in manifest["modules"].values():
        (folder / entry["member"]).write_text(edited)
        entry["sha256"] = hashlib.sha256(edited.encode()).hexdigest()  # an edit that also rewrote the manifest
    manifest_path.write_text(json.dumps(manifest))
    verdict = cli("verify", str(folder), "--json")
    assert verdict.status == 1
    report = json.loads(verdict.stdout)["divergence"]
    getpid = next(e for e in run.tape().events if e.function == "os.getpid")
    assert report["kind"] == "call" and report["event"] == getpid.number
    assert report["expected"] == "os.getpid()" and report["asked"] == "time.time()"
    assert report["stack"][-1]["line"] == 2


def test_truncated_tape_is_one_clear_line(record, write_program, tmp_path):
    write_program("import time\nfor _ in range(20000): time.time()\n")
    run = record("program.py", verify_after=False)
    folder = extracted(run, tmp_path)
    tape = next(folder.glob("*.bin"))
    tape.write_bytes(tape.read_bytes()[: tape.stat().st_size // 2])
    for command in ("verify", "replay"):
        result = cli(command, str(folder))
        assert result.status == 2
        assert len(result.stderr.strip().splitlines()) == 1 and "cut off" in result.stderr


def test_another_python_version_is_one_clear_line(record, write_program, tmp_path):
    write_program("print(1)")
    run = record("program.py", verify_after=False)
    folder = extracted(run, tmp_path)
    index = json.loads((folder / "index.json").read_text())
    index["python_minor"] = "3.99"
    (folder / "index.json").write_text(json.dumps(index))
    result = cli("verify", str(folder))
    assert result.status == 2
    assert result.stderr.strip().splitlines() == [
        f"retrace-tui: {folder} was recorded with Python 3.99; replay it with python3.99 "
        f"(this is Python {os.sys.version_info[0]}.{os.sys.version_info[1]})"]


def test_replay_of_a_file_reading_program_without_the_file(record, write_program, tmp_path):
    (tmp_path / "data.json").write_text('{"n": 7}')
    write_program("import json\nprint(json.load(open('data.json'))['n'] * 6)\n")
    run = record("program.py")
    (tmp_path / "data.json").unlink()
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "42\n")
    assert not (tmp_path / "data.json").exists()


def test_standard_input_is_recorded_and_replayed_without_it(record, write_program, tmp_path):
    write_program("""
        import sys
        name = input("name? ")
        rest = sys.stdin.read()
        print(f"hello {name}, then {rest!r}")
    """)
    run = record("program.py", input="alpha\nbeta\ngamma\n")
    assert run.stdout == "name? hello alpha, then 'beta\\ngamma\\n'\n"
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout)


def test_io_done_in_c_by_sqlite_stops_replay_with_a_clear_report(record, write_program, tmp_path):
    write_program("""
        import sqlite3
        db = sqlite3.connect("shop.db")
        db.execute("create table if not exists items (photo blob)")
        db.execute("insert into items values (zeroblob(4))")
        db.commit()
        db.blobopen("items", "photo", 1).close()
        print("ok")
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0 and run.stdout == "ok\n"
    warnings = [line for line in run.stderr.splitlines() if line.startswith("retrace:")]
    assert len(warnings) == 1 and "sqlite3" in warnings[0]
    (tmp_path / "shop.db").unlink()
    verdict = cli("verify", str(run.path), "--json")
    assert verdict.status == 1
    report = json.loads(verdict.stdout)["divergence"]
    assert report["kind"] == "unsupported" and "sqlite3.Connection.blobopen" in report["asked"]
    assert not (tmp_path / "shop.db").exists()


def test_output_that_differs_only_in_object_addresses_still_matches(record, write_program):
    write_program("class Thing: pass\nprint(Thing(), object())\n")
    run = record("program.py")
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0
    assert "differed only in object addresses" in verdict.stdout


def test_a_long_write_that_differs_only_in_addresses_still_matches(record, write_program):
    # pytester writes a whole inner run's output in one call (10.8 KiB, with the reprs and
    # ids of pytest's plugins; 112 KiB for another test); over 8 KiB, then over 64 KiB, a
    # write was compared byte for byte, and diverged.
    write_program("""
        class Thing:
            pass

        things = [Thing() for _ in range(2000)]
        report = "".join(f"{id(thing):<20}: {thing!r}\\n" for thing in things)
        assert 65536 < len(report) < 1 << 20, len(report)
        with open("report.txt", "w") as handle:
            handle.write(report)
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0, run.stderr
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0, verdict.stdout
    assert "1 writes differed only in object addresses" in verdict.stdout


def test_a_repr_cut_short_in_an_address_still_matches(record, write_program):
    # pytest's saferepr cuts a long repr in the middle ("...eb6ed1bc90>>"): the address's
    # tail kept no "0x", and pytest's own suite (a --fulltrace report) diverged on it.
    write_program("""
        class Thing:
            pass

        text = repr([Thing() for _ in range(3)])
        print(text[:20] + "..." + text[-10:])
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0, run.stderr
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0, verdict.stdout
    assert "1 writes differed only in object addresses" in verdict.stdout


def test_files_and_logs_that_differ_only_in_addresses_or_ids_still_match(record, write_program, tmp_path):
    """pytest captures a test's prints into a file, and a log line may carry id(self): a
    write whose bytes differ only in an address or an id() is not a divergence."""
    write_program("""
        import logging

        class Thing:
            pass

        def test_prints_reprs(tmp_path):
            thing = Thing()
            print(repr(test_prints_reprs), thing, id(thing))
            logging.getLogger("x").warning("made %s with id %d", thing, id(thing))
            with open(tmp_path / "out.txt", "w") as handle:
                handle.write(f"{thing!r} {id(thing)}\\n")
            assert False, repr(thing)
    """, name="test_addresses.py")
    run = record("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_addresses.py", verify_after=False)
    assert run.status == 1, run.stdout
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0, verdict.stdout
    assert "writes differed only in object addresses" in verdict.stdout
    state = json.loads(cli("inspect", str(run.path), "--at", "end", "--json").stdout)
    # The last event, not the last position: the engine's count of positions at the end
    # of a pytest run differed by a few lines between runs once (finalizers run by the
    # collector at another moment; see the session note), which is not this test's subject.
    assert state.get("divergence") is None and state["event"] == state["events"]
