"""The CLI around recordings: bad input gets one line and exit 2; the archive stands alone."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from conftest import cli


def one_line_error(run, status=2):
    assert run.status == status, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    return lines[0]


def test_record_without_separator_or_program(tmp_path):
    assert "--" in one_line_error(cli("record", "-o", "x.retrace", "script.py", cwd=tmp_path))
    assert "no program" in one_line_error(cli("record", "-o", "x.retrace", "--", cwd=tmp_path))
    assert "no such script" in one_line_error(cli("record", "-o", "x.retrace", "--", "gone.py", cwd=tmp_path))
    assert not list(tmp_path.iterdir())


def test_record_with_python_typed_in_front_of_the_program(record, write_program, tmp_path):
    # `record -- python -m pytest`, as the command runs unrecorded: "python" was taken for a
    # script ("no such script: python"), and a path to the interpreter was run as one
    # ("SyntaxError: source code string cannot contain null bytes").
    write_program("import sys; print('ran', sys.argv[1:])")
    for python in (sys.executable, "python%d.%d" % sys.version_info[:2]):
        run = record(python, "program.py", "a", name=f"{os.path.basename(python)}.retrace",
                     env={"PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]})
        assert (run.status, run.stdout, run.stderr) == (0, "ran ['a']\n", "")
    # another Python than retrace-tui's own: one line, nothing recorded
    other = tmp_path / "bin" / "python2"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\necho 2 7\n")
    other.chmod(0o755)
    message = one_line_error(cli("record", "-o", "other.retrace", "--", str(other), "program.py", cwd=tmp_path))
    assert "is another Python" in message and "-m retrace_tui record" in message
    assert not (tmp_path / "other.retrace").exists()


def test_record_a_command_on_path_that_is_a_python_script(record, tmp_path):
    # `record -- pytest -q`, as pip's console scripts are run: "no such script: pytest".
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    body = "import sys\nprint('ran', sys.argv[1:])\n"
    for name, shebang in (("tool", sys.executable), ("envtool", "/usr/bin/env python3")):
        (bin_folder / name).write_text(f"#!{shebang}\n{body}")
        (bin_folder / name).chmod(0o755)
    path = os.pathsep.join([str(bin_folder), os.path.dirname(sys.executable), os.environ["PATH"]])
    for name in ("tool", "envtool"):
        run = record(name, "a", "-b", name=f"{name}.retrace", env={"PATH": path})
        assert (run.status, run.stdout, run.stderr) == (0, "ran ['a', '-b']\n", ""), name
    # one that runs on another Python, and a program that is no Python at all: one line each
    other = bin_folder / "python2"
    other.write_text("#!/bin/sh\necho 2 7\n")
    other.chmod(0o755)
    (bin_folder / "oldtool").write_text(f"#!{other}\n{body}")
    (bin_folder / "oldtool").chmod(0o755)
    message = one_line_error(cli("record", "-o", "old.retrace", "--", "oldtool", cwd=tmp_path, env={"PATH": path}))
    assert "another Python" in message, message
    message = one_line_error(cli("record", "-o", "ls.retrace", "--", "ls", cwd=tmp_path, env={"PATH": path}))
    assert "ls is not a Python program" in message, message
    assert not (tmp_path / "old.retrace").exists() and not (tmp_path / "ls.retrace").exists()


def test_record_to_an_unwritable_place(tmp_path, write_program):
    write_program("print(1)")
    blocker = tmp_path / "file"
    blocker.write_text("")
    message = one_line_error(cli("record", "-o", str(blocker / "sub" / "x.retrace"), "--", "program.py",
                                 cwd=tmp_path))
    assert "cannot write" in message


def test_record_creates_parent_folders_and_prints_nothing_of_its_own(record, write_program):
    write_program("print('only mine')")
    run = record("program.py", name="deep/er/run.retrace")
    assert (run.status, run.stdout, run.stderr) == (0, "only mine\n", "")
    assert run.path.is_file() and os.stat(run.path).st_mode & 0o777 == 0o700  # owner-only: it holds what the program read
    assert run.path.read_bytes().startswith(b"#!/usr/bin/env python3\n")


def test_python_dash_m_retrace_tui_recording_alias(tmp_path, write_program):
    write_program("print('aliased')")
    run = cli("--recording", "alias.retrace", "--", "program.py", cwd=tmp_path)
    assert (run.status, run.stdout) == (0, "aliased\n")
    assert (tmp_path / "alias.retrace").is_file()


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_corrupt_or_foreign_files(tmp_path, content):
    bad = tmp_path / "bad.retrace"
    bad.write_bytes(content)
    for command in ("events", "pids", "extract"):
        assert "bad.retrace" in one_line_error(cli(command, str(bad)))


def test_missing_recording(tmp_path):
    for command in ("events", "pids", "extract"):
        assert "no such recording" in one_line_error(cli(command, str(tmp_path / "missing.retrace")))


def test_truncated_tape_is_reported(record, write_program, tmp_path):
    write_program("import time\nfor _ in range(5000): time.time()\n")
    run = record("program.py")
    extracted = tmp_path / "x.d"
    assert cli("extract", str(run.path), str(extracted)).status == 0
    tape = next(extracted.glob("*.bin"))
    tape.write_bytes(b"garbage" + tape.read_bytes()[7:])
    assert "not a retrace tape" in one_line_error(cli("events", str(extracted)))


def test_archive_members_escaping_the_folder_are_refused(tmp_path):
    evil = tmp_path / "evil.retrace"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("index.json", json.dumps({"format_version": 1, "processes": []}))
        archive.writestr("../escaped.txt", "x")
    message = one_line_error(cli("extract", str(evil), str(tmp_path / "out")))
    assert "outside" in message
    assert not (tmp_path / "escaped.txt").exists()
    standalone = subprocess.run([sys.executable, "-I", "-S", str(evil), "--extract", str(tmp_path / "out2")],
                                capture_output=True, text=True)
    assert standalone.returncode != 0 and not (tmp_path / "escaped.txt").exists()


def test_archive_extracts_and_lists_pids_with_the_standard_library_alone(record, write_program, tmp_path):
    write_program("print('x')")
    run = record("program.py")
    pid = run.tape().process["pid"]
    # -I -S: no site-packages, so nothing of retrace-tui can be imported.
    listed = subprocess.run([sys.executable, "-I", "-S", str(run.path), "--list-pids"], capture_output=True,
                            text=True)
    assert (listed.returncode, listed.stdout) == (0, f"{pid}\n")
    alias = subprocess.run([str(run.path), "--list_pids"], capture_output=True, text=True)
    assert alias.stdout == f"{pid}\n"
    extracted = subprocess.run([sys.executable, "-I", "-S", str(run.path), "--extract"], capture_output=True,
                               text=True, cwd=tmp_path)
    assert extracted.returncode == 0
    folder = tmp_path / "run.d"
    assert (folder / "index.json").is_file() and (folder / f"{pid}.bin").is_file()
    assert cli("events", str(folder)).stdout == cli("events", str(run.path)).stdout
    # The folder name of earlier versions (run.retrace.d) is still read for run.retrace.
    events = cli("events", str(run.path)).stdout
    run.path.unlink()
    folder.rename(tmp_path / "run.retrace.d")
    assert cli("events", str(run.path)).stdout == events


def test_events_json_and_pids_json(record, write_program):
    write_program("import time; print(time.time())")
    run = record("program.py")
    events = json.loads(cli("events", str(run.path), "--json").stdout)
    clock = [e for e in events if e["function"] == "time.time"]
    assert len(clock) == 1 and clock[0]["result"] == run.stdout.strip()
    assert [e["number"] for e in events] == list(range(1, len(events) + 1))
    pids = json.loads(cli("pids", str(run.path), "--json").stdout)
    assert pids[0]["exit_status"] == 0 and pids[0]["parent"] is None


def test_demo_records_the_quickstart_and_shows_the_failure(tmp_path):
    """Without a terminal the demo prints the failure; with one it opens the debugger there
    (tests/tui/test_app.py opens the same recording at the same line)."""
    run = cli("demo", "--keep", str(tmp_path), timeout=300)
    assert run.status == 0, run.stderr
    assert "1 failed" in run.stdout
    recording = tmp_path / "quickstart" / "recordings" / "pytest.retrace"
    assert recording.is_file()
    assert "test_fixed_coupon_is_taken_off_the_order_once failed with AssertionError" in run.stdout
    assert "assert receipt.total == expected_total" in run.stdout
    assert f"retrace-tui {recording}" in run.stdout


def test_interpreter_options_that_defeat_replay_are_refused(tmp_path, write_program):
    write_program("print(1)")
    for option in ("-E", "-I", "-S", "-uE"):
        message = one_line_error(cli("record", "-o", "x.retrace", "--", option, "program.py", cwd=tmp_path))
        assert "record without it" in message


def test_bare_command_lists_every_command():
    run = cli()
    for command in ("open", "record", "replay", "verify", "inspect", "events", "pids", "extract", "install", "demo"):
        assert command in run.stdout


def test_ctrl_c_reaches_the_recorded_program(tmp_path, write_program):
    write_program("""
        import signal, sys, time
        print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, flush=True)
        try:
            time.sleep(30)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(7)
    """)
    process = subprocess.Popen([sys.executable, "-m", "retrace_tui", "record", "-o", "int.retrace", "--",
                                "program.py"], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "True\n"
    import signal
    import time
    time.sleep(0.3)
    child = int(next(p.stem for p in (tmp_path / "int.d").glob("*.bin")))
    os.kill(child, signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert out == "interrupted\n" and process.returncode == 7
