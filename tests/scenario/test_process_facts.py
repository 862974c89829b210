"""Process facts and the environment at start."""
import json
import os

import pytest

from conftest import cli, verify


def first(tape, function):
    return next(event.value for event in tape.events if event.function == function)


def test_pid_cwd_uname_cpu_count_times_are_events(record, write_program):
    write_program("""
        import os
        print(os.getpid(), os.getppid())
        print(os.getcwd())
        print(os.uname().nodename, os.cpu_count())
        print(os.times().elapsed)
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    tape = run.tape()
    lines = run.stdout.splitlines()
    assert lines[0] == f"{first(tape, 'os.getpid')} {first(tape, 'os.getppid')}"
    assert lines[1] == first(tape, "os.getcwd")
    assert lines[2] == f"{first(tape, 'os.uname').nodename} {first(tape, 'os.cpu_count')}"
    assert lines[3] == str(first(tape, "os.times").elapsed)
    assert tape.process["pid"] == first(tape, "os.getpid")


def test_environment_argv_cwd_and_hash_seed_are_stored(record, write_program, tmp_path):
    write_program("""
        import os, sys
        print(os.environ["GREETING"], sys.argv[1:], hash("retrace"))
    """)
    run = record("program.py", "a", "b", env={"GREETING": "hello"})
    assert run.status == 0, run.stderr
    with run.recording() as recording:
        index = recording.index
    assert index["env"]["GREETING"] == "hello"
    assert index["argv"] == ["program.py", "a", "b"]
    assert index["cwd"] == str(tmp_path)
    assert index["hash_seed"].isdigit()
    assert index["complete"] is True and index["exit_status"] == 0
    # The stored seed reproduces the hash the program printed.
    import subprocess
    import sys
    again = subprocess.run([sys.executable, "-c", "print(hash('retrace'))"], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": index["hash_seed"]})
    assert run.stdout.split()[-1] == again.stdout.strip()


def test_a_hash_seed_set_by_the_user_is_kept(record, write_program):
    write_program("print(hash('x'))")
    run = record("program.py", env={"PYTHONHASHSEED": "123"})
    with run.recording() as recording:
        assert recording.index["hash_seed"] == "123"


def test_secret_looking_values_are_redacted_everywhere_in_the_file(record, write_program):
    write_program("import os; print(len(os.environ['API_TOKEN']))")
    secret = "s3cr3t-value-that-must-not-leak"
    run = record("program.py", env={"API_TOKEN": secret, "DB_PASSWORD": secret + "2", "KEEPME_KEY": "visible"},
                 extra=("--keep-env", "KEEPME_KEY"), verify_after=False)
    assert run.status == 0, run.stderr
    assert run.stdout.strip() == str(len(secret))  # the program itself saw the real value
    assert secret.encode() not in run.path.read_bytes()
    with run.recording() as recording:
        index = recording.index
        header = recording.tape().process
    assert index["env"]["API_TOKEN"] != secret and "redacted" in index["env"]["API_TOKEN"]
    assert index["env"]["KEEPME_KEY"] == "visible"
    assert set(index["redacted"]) >= {"API_TOKEN", "DB_PASSWORD"}
    assert header["env"]["API_TOKEN"] == index["env"]["API_TOKEN"]
    # Nothing compressed hides it either.
    for name in recording_names(run.path):
        assert secret.encode() not in name
    assert json.dumps(index).find(secret) == -1
    # Replay sees the redacted value, so this program diverges, and the report says why.
    verdict = verify(run.path)
    assert verdict.status == 1
    report = json.loads(verdict.stdout)["divergence"]
    assert report["kind"] == "output"
    assert any("API_TOKEN" in cause for cause in report["likely_causes"])


def recording_names(path):
    import zipfile
    with zipfile.ZipFile(path) as archive:
        return [archive.read(name) for name in archive.namelist()]


def test_signals_the_program_sends_itself_arrive_in_the_replay(record, write_program):
    """``os.kill`` is not performed in a replay, but a signal to the process itself is: its
    handler ran in the recording (a KeyboardInterrupt test), and ``signal.pause()`` waited
    for it; replayed, the pause is answered from the tape (the signal may come first)."""
    write_program("""
        import os, signal, threading
        try:
            os.kill(os.getpid(), signal.SIGINT)
            signal.pause()  # not reached: the interrupt comes first
        except KeyboardInterrupt:
            print("interrupted")
        signal.signal(signal.SIGUSR1, lambda *args: print("woken"))
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        signal.pause()
        print("done")
    """)
    run = record("program.py")  # the fixture verifies every recording
    assert (run.status, run.stdout) == (0, "interrupted\nwoken\ndone\n"), run.stderr
    replayed = cli("replay", str(run.path), timeout=60)
    assert (replayed.status, replayed.stdout) == (0, run.stdout), replayed.stderr


def test_the_user_and_group_databases_and_the_machine_configuration_are_read_from_the_tape(record, write_program):
    # A replay elsewhere has other users: sh's suite adds a user to run a command as it,
    # and its replay, on a machine without that user, took another path at getpwuid.
    write_program("""
        import grp, os, pathlib, pwd
        me = pwd.getpwuid(os.getuid())
        print(me.pw_dir == os.path.expanduser("~" + me.pw_name))
        try:
            pwd.getpwnam("no-such-user-of-retrace")
        except KeyError as error:
            print("missing", error)
        print(any(entry.pw_uid == os.getuid() for entry in pwd.getpwall()))
        print(grp.getgrgid(os.getgid()).gr_gid == os.getgid(), len(grp.getgrall()) > 0)
        print(pathlib.Path(__file__).owner() == me.pw_name)
        print(os.getgid() in os.getgrouplist(me.pw_name, os.getgid()))
        print(os.sysconf("SC_PAGE_SIZE") > 0, os.confstr("CS_PATH").startswith("/"))
    """)
    run = record("program.py")  # (the fixture verifies the recording)
    assert run.status == 0, run.stderr
    assert run.stdout == ("True\nmissing \"getpwnam(): name not found: 'no-such-user-of-retrace'\"\n"
                          "True\nTrue True\nTrue\nTrue\nTrue True\n")
    listed = cli("events", str(run.path)).stdout
    for call in ("pwd.getpwuid(", "pwd.getpwnam('no-such-user-of-retrace') -> raised KeyError", "pwd.getpwall()",
                 "grp.getgrgid(", "grp.getgrall()", "os.getgrouplist(", "os.sysconf('SC_PAGE_SIZE')",
                 "os.confstr('CS_PATH')"):
        assert call in listed, call


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can become another user")
def test_a_child_that_becomes_another_user_replays_as_ours(record, write_program):
    # sh runs a command as another user from a forked child (setgid, setuid, then exec):
    # the replay changed its own identity too, lost the rights to its own report, and
    # stopped without one ("lost sys.stderr").
    write_program("""
        import os
        pid = os.fork()
        if pid == 0:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            print("child is", os.getuid(), os.getgid(), flush=True)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        print("exited", os.waitstatus_to_exitcode(status))
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0, run.stderr
    assert run.stdout == "child is 65534 65534\nexited 0\n"
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0, verdict.stdout
    # (The child's recording ends before its exit record: it no longer may write into the
    # recording's folder. It replays as far as it was recorded.)
    assert "all 2 processes replayed exactly" in verdict.stdout
