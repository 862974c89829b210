"""Subprocesses: the spawn, the child's output as the program read it, the wait, the kill.

These recordings also replay (the `record` fixture verifies them): no child is started
in replay, and everything the program learnt of its children comes from the tape.
"""
import os
import shutil
import signal
from binascii import crc32

import pytest

from conftest import calls, cli, printed

FORK_EXEC = "_posixsubprocess.fork_exec"
SPAWN = "os.posix_spawn"  # what subprocess starts a child with where it can, from Python 3.13 on


class Spawned:
    """One child start on the tape, read alike whichever call ``subprocess`` made."""

    def __init__(self, tape, event) -> None:
        self.event, self.number, self.pid = event, event.number, event.value
        if event.function == FORK_EXEC:
            args = event.arguments
            self.argv, self.executables, self.environment = args[0], args[1], args[5]
            self.stdin, self.stdout = args[7], args[8]  # the parent's ends: p2cwrite, c2pread
            return
        (path, self.argv, self.environment), options = event.arguments
        self.executables = [path]
        # The child's ends are dup'ed onto 0 and 1; the parent keeps the other ends of those pipes.
        child_ends = {action[2]: action[1] for action in options.get("file_actions", ())
                      if action[0] == os.POSIX_SPAWN_DUP2}
        self.stdin = _other_end(tape, event, child_ends.get(0))
        self.stdout = _other_end(tape, event, child_ends.get(1))


def _other_end(tape, before, fd) -> int:
    """The other end of the last pipe made before ``before`` with ``fd`` as one end."""
    for pipe in reversed([e for e in calls(tape, "os.pipe") if e.number < before.number]):
        if fd in pipe.value:
            return pipe.value[1 - list(pipe.value).index(fd)]
    return -1


def spawns(tape) -> list[Spawned]:
    return [Spawned(tape, event) for event in tape.events if event.function in (FORK_EXEC, SPAWN)]


def child(tape, index: int):
    """The index-th spawn, its wait(s) and the bytes the program read from its stdout."""
    spawn = spawns(tape)[index]
    pid = spawn.pid
    waits = [e for e in calls(tape, "os.waitpid") if e.arguments[0] == pid]
    output = b"".join(event.value for event in tape.events
                      if event.function in ("os.read", "file.read") and event.arguments[0] == spawn.stdout
                      and spawn.number < event.number < waits[-1].number)
    return spawn, waits, output


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git on PATH")
def test_run_git_version_with_captured_output(record, write_program):
    write_program("""
        import subprocess
        result = subprocess.run(["git", "--version"], capture_output=True, timeout=30)
        print("result", (result.returncode, result.stdout, result.stderr))
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    returncode, stdout, stderr = printed(run)["result"]
    tape = run.tape()
    spawn, waits, output = child(tape, 0)
    assert spawn.argv == ["git", "--version"]
    assert any(path.endswith(b"/git") for path in spawn.executables)
    assert output == stdout and stdout.startswith(b"git version")
    assert waits[-1].arguments[0] == spawn.pid
    assert waits[-1].value == (spawn.pid, 0) and returncode == 0 and stderr == b""
    # communicate() waited on both pipes through a recorded poll object.
    assert calls(tape, "select.poll") and calls(tape, "select.poll.poll")


def test_check_output_of_a_python_child(record, write_program):
    write_program("""
        import subprocess, sys
        out = subprocess.check_output([sys.executable, "-c", "print('hi from the child', 6 * 7)"], timeout=30)
        print("out", out)
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    tape = run.tape()
    spawn, waits, output = child(tape, 0)
    assert spawn.argv[1:] == ["-c", "print('hi from the child', 6 * 7)"]
    assert output == printed(run)["out"] == b"hi from the child 42\n"
    assert waits[-1].value == (spawn.pid, 0)


def test_communicate_with_input(record, write_program):
    write_program("""
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdout.write(sys.stdin.read().upper())"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        out, err = child.communicate(b"shout this, please", timeout=30)
        print("child", (child.pid, child.returncode, out, err))
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    pid, returncode, out, err = printed(run)["child"]
    tape = run.tape()
    spawn, waits, output = child(tape, 0)
    assert spawn.pid == pid and returncode == 0 and err is None
    assert output == out == b"SHOUT THIS, PLEASE"
    # What went into the child's stdin is kept as length and CRC.
    stdin_fd = spawn.stdin
    writes = [e for e in calls(tape, "os.write") if e.arguments[0] == stdin_fd]
    assert [e.arguments[1] for e in writes] == [[18, crc32(b"shout this, please")]]
    assert writes[0].value == 18
    registered = [e.arguments for e in calls(tape, "select.poll.register")]
    assert (stdin_fd, 4) in registered and (spawn.stdout, 1) in registered


def test_timeout_kills_the_child(record, write_program):
    write_program("""
        import subprocess, sys, time
        started = time.monotonic()
        try:
            subprocess.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
        except subprocess.TimeoutExpired as exc:
            print("expired", (0 < exc.timeout <= 0.5, time.monotonic() - started < 20))
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    assert printed(run)["expired"] == (True, True)
    tape = run.tape()
    spawn, waits, _output = child(tape, 0)
    pid = spawn.pid
    kill, = calls(tape, "os.kill")
    assert kill.arguments == (pid, signal.SIGKILL) and kill.value is None
    assert all(wait.arguments == (pid, os.WNOHANG) for wait in waits[:-1])
    assert waits[-1].arguments == (pid, 0)
    assert os.waitstatus_to_exitcode(waits[-1].value[1]) == -signal.SIGKILL
    assert kill.number < waits[-1].number


def test_kill_and_waitpid_by_hand(record, write_program):
    write_program("""
        import os, signal, subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        os.kill(child.pid, signal.SIGTERM)
        pid, status = os.waitpid(child.pid, 0)
        print("waited", (child.pid, pid, status, os.waitstatus_to_exitcode(status)))
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped by hand
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    pid, waited_pid, status, code = printed(run)["waited"]
    tape = run.tape()
    assert spawns(tape)[0].pid == pid == waited_pid
    assert calls(tape, "os.kill")[0].arguments == (pid, signal.SIGTERM)
    wait, = calls(tape, "os.waitpid")
    assert wait.arguments == (pid, 0) and wait.value == (pid, status) and code == -signal.SIGTERM


def test_secret_looking_environment_values_are_redacted_in_the_spawn(record, write_program):
    write_program("""
        import os, subprocess, sys
        env = {"PATH": os.environ["PATH"], "MY_API_TOKEN": "s3cret-value", "GREETING": "hello"}
        code = subprocess.call([sys.executable, "-c", "import os; assert os.environ['MY_API_TOKEN']"], env=env)
        print("code", code)
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    assert printed(run)["code"] == 0  # the child itself got the real value
    environment = spawns(run.tape())[0].environment
    assert environment["MY_API_TOKEN"] == "<redacted by retrace>"
    assert environment["GREETING"] == "hello" and environment["PATH"]
    assert "s3cret-value" not in repr([(e.arguments, e.value) for e in run.tape().events])


def test_a_forked_child_that_execs_a_command_replays_without_running_it(record, write_program, tmp_path):
    # sh forks a child per command, which sets itself up and execs the command: the
    # child's last events died with its process image, and a replay that got as far as
    # the exec ran the command for real.
    write_program("""
        import os, sys, time
        pid = os.fork()
        if pid == 0:
            time.sleep(0.3)  # the tape's flusher writes what came before (every 100 ms)
            os.execv("/bin/touch", ["touch", sys.argv[1]])
        _, status = os.waitpid(pid, 0)
        print("child exited", os.waitstatus_to_exitcode(status))
        try:
            os.execv("/nonexistent/program", ["program"])
        except OSError as error:
            print("exec failed", error.errno)
    """)
    marker = tmp_path / "made-by-touch"
    run = record("program.py", str(marker), verify_after=False)
    assert run.status == 0, run.stderr
    assert run.stdout == "child exited 0\nexec failed 2\n"
    assert marker.exists()
    marker.unlink()
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0, verdict.stdout
    assert "all 2 processes replayed exactly\n" in verdict.stdout
    assert not marker.exists()  # nothing was executed
    assert "os.execv.failed('/nonexistent/program', ['program']) -> raised FileNotFoundError" in \
        cli("events", str(run.path)).stdout
    with run.recording() as recording:
        child = next(process["pid"] for process in recording.processes() if process["started"] == "fork")
    assert "os.execv('/bin/touch', ['touch'," in cli("events", "--pid", str(child), str(run.path)).stdout
    # what became of the child is said, not "incomplete" or an exit status it did not have
    listed = next(line for line in cli("pids", str(run.path)).stdout.splitlines() if line.strip().startswith(str(child)))
    assert listed.split("\t")[2] == f"became /bin/touch {marker}"
    assert f"up to where it became another program: /bin/touch {marker}\n" in verdict.stdout


def test_a_child_that_closes_every_descriptor_before_it_execs_keeps_its_tape(record, write_program):
    # pexpect's children (ptyprocess) close every descriptor above 2 before they exec: the
    # tape's went too, and the child wrote "cannot write the tape" into its terminal, where
    # 31 of pexpect's tests read it as the command's output.
    write_program("""
        import os
        pid = os.fork()
        if pid == 0:
            os.closerange(3, 4096)
            os.execv("/bin/echo", ["echo", "child ran"])
        _, status = os.waitpid(pid, 0)
        print("exited", os.waitstatus_to_exitcode(status))
    """)
    run = record("program.py", verify_after=False)
    assert (run.status, run.stdout, run.stderr) == (0, "child ran\nexited 0\n", "")
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0, verdict.stdout
    assert "all 2 processes replayed exactly\n" in verdict.stdout
