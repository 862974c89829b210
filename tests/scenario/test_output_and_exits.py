"""Output keeps its bytes; every way a program ends leaves a complete recording."""
import subprocess
import sys

from conftest import clean_environment, cli


def plain(program, cwd):
    completed = subprocess.run([sys.executable, *program], cwd=cwd, capture_output=True, text=True,
                               env=clean_environment())
    return completed.returncode, completed.stdout, completed.stderr


def written(tape, fd):
    stream = "sys.stdout.write" if fd == 1 else "sys.stderr.write"
    data = b"".join(e.arguments[0] for e in tape.events if e.function == stream)
    data += b"".join(e.arguments[1] for e in tape.events if e.function == "os.write" and e.arguments[0] == fd)
    return data


def test_stdout_and_stderr_bytes_are_on_the_tape(record, write_program):
    write_program("""
        import os, sys
        print("héllo", 42)
        print("warn", file=sys.stderr)
        sys.stdout.flush()
        os.write(1, b"raw\\n")
    """)
    run = record("program.py")
    assert run.status == 0
    assert run.stdout == "héllo 42\nraw\n"
    assert run.stderr == "warn\n"
    tape = run.tape()
    assert written(tape, 1) == "héllo 42\nraw\n".encode()
    assert written(tape, 2) == b"warn\n"


def test_uncaught_exception_prints_what_python_prints_and_exits_1(record, write_program, tmp_path):
    write_program("""
        def fail():
            raise ValueError("bad value 7")
        fail()
    """)
    run = record("program.py")
    assert (run.status, run.stdout, run.stderr) == plain(["program.py"], tmp_path)
    assert "ValueError: bad value 7" in run.stderr and "launch" not in run.stderr
    tape = run.tape()
    assert tape.complete and tape.exit["exit_status"] == 1
    with run.recording() as recording:
        assert recording.index["exit_status"] == 1 and recording.index["complete"]


def test_sys_exit_and_os_exit_statuses(record, write_program):
    write_program("import sys; print('bye'); sys.exit(3)", name="exit3.py")
    write_program("import os, sys; print('hard', flush=True); os._exit(4)", name="exit4.py")
    write_program("import sys; sys.exit('a message')", name="message.py")
    three = record("exit3.py", name="three.retrace")
    four = record("exit4.py", name="four.retrace")
    message = record("message.py", name="message.retrace")
    assert (three.status, three.stdout) == (3, "bye\n")
    assert (four.status, four.stdout) == (4, "hard\n")
    assert (message.status, message.stderr) == (1, "a message\n")
    for run, status in ((three, 3), (four, 4), (message, 1)):
        tape = run.tape()
        assert tape.complete and tape.exit["exit_status"] == status


def test_module_code_and_script_arguments(record, write_program, tmp_path):
    write_program("import sys\nprint('cli', sys.argv[1:], __name__)\n", name="pkg/cli.py")
    write_program("", name="pkg/__init__.py")
    write_program("import sys; print(sys.argv)", name="args.py")
    module = record("-m", "pkg.cli", "--flag", name="m.retrace")
    code = record("-c", "import sys; print(sys.argv, __name__)", "x", name="c.retrace")
    script = record("args.py", "a", "b c", name="s.retrace")
    assert module.stdout == "cli ['--flag'] __main__\n"
    assert code.stdout == "['-c', 'x'] __main__\n"
    assert script.stdout == "['args.py', 'a', 'b c']\n"
    assert (module.stdout, code.stdout, script.stdout) == (
        plain(["-m", "pkg.cli", "--flag"], tmp_path)[1],
        plain(["-c", "import sys; print(sys.argv, __name__)", "x"], tmp_path)[1],
        plain(["args.py", "a", "b c"], tmp_path)[1])


def test_interpreter_options_before_the_program_are_applied(record):
    run = record("-X", "utf8", "-c", "import sys; print(sys.flags.utf8_mode)")
    assert run.stdout == "1\n"


def test_pytest_run_is_recorded_with_its_output_and_status(record, write_program, tmp_path):
    write_program("""
        def test_ok():
            assert 1 + 1 == 2

        def test_bad():
            total = 2 + 2
            assert total == 5
    """, name="tests/test_sample.py")
    run = record("-m", "pytest", "tests", "-q", "-p", "no:cacheprovider")
    status, stdout, _ = plain(["-m", "pytest", "tests", "-q", "-p", "no:cacheprovider"], tmp_path)
    assert run.status == status == 1
    assert "1 failed, 1 passed" in run.stdout
    assert "assert 4 == 5" in run.stdout
    tape = run.tape()
    assert tape.complete
    assert written(tape, 1).decode().splitlines()[-1].startswith("1 failed, 1 passed")


def test_a_failing_boundary_call_prints_no_recorder_frames(record, write_program, tmp_path):
    write_program("""
        def load():
            return open("missing.txt").read()
        load()
    """)
    run = record("program.py")
    assert (run.status, run.stdout, run.stderr) == plain(["program.py"], tmp_path)
    assert "retrace_core" not in run.stderr


def test_replay_prints_what_the_recorded_run_printed(record, write_program, tmp_path):
    write_program("""
        def test_reads_a_missing_file():
            open("missing.txt")

        def test_compares():
            assert [1, 2] == [1, 3]
    """, name="tests/test_sample.py")
    run = record("-m", "pytest", "tests", "-q", "-p", "no:cacheprovider")
    assert run.status == 1
    assert "retrace_core" not in run.stdout
    replayed = cli("replay", str(run.path), cwd=tmp_path)
    assert (replayed.status, replayed.stdout, replayed.stderr) == (run.status, run.stdout, run.stderr)


def test_tracebacks_the_program_prints_itself_show_no_recorder_frames(record, write_program, tmp_path):
    write_program("""
        import logging, traceback
        try:
            open("missing.txt")
        except OSError:
            traceback.print_exc()
            logging.exception("could not open")
    """)
    run = record("program.py")
    assert (run.status, run.stdout, run.stderr) == plain(["program.py"], tmp_path)
    assert "retrace_core" not in run.stderr


WHERE_IT_STANDS = """\
import inspect, os, sys
stack = inspect.stack()
outermost = stack[-1].filename
# coverage's `run` decides sys.path[0] by the folder of the outermost frame's file
print(len(stack), outermost, os.path.abspath(os.path.dirname(outermost)) == os.getcwd())
"""


def test_the_programs_outermost_frame_is_the_one_a_plain_run_has(record, write_program, tmp_path):
    # typer's suite: `python -m coverage run script.py` put another sys.path[0] recorded,
    # as the outermost frame of the stack was our launcher's, and a test's result changed.
    write_program(WHERE_IT_STANDS)
    (tmp_path / "standing").mkdir()
    (tmp_path / "standing" / "__main__.py").write_text(WHERE_IT_STANDS)
    for program in (["program.py"], ["-m", "standing"], ["-c", WHERE_IT_STANDS]):
        expected = plain(program, tmp_path)
        assert expected[0] == 0, expected[2]
        run = record(*program)
        assert (run.status, run.stdout) == expected[:2], run.stderr
        replayed = cli("replay", str(run.path))
        assert replayed.stdout == expected[1], replayed.stderr
