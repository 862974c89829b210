"""Terminals: pseudo-terminals made by pty.fork(), and the calls that set a terminal up
(termios, ioctl), recorded and replayed in both processes."""
from __future__ import annotations

from conftest import cli
from scenario.test_processes import record_and_verify, tree


def test_a_pty_fork_child_is_a_recorded_process_of_its_own(record, write_program):
    # blessed's suite runs its terminal tests in children of pty.fork(), which is
    # os.forkpty(): libc forks out of our sight. Recorded, the child went unrecorded;
    # replayed, the replay forked for real ("the replay worker stopped without a report").
    write_program("""
        import os, pty, sys, time
        pid, master = pty.fork()
        if pid == 0:
            print("child", os.isatty(0), os.isatty(1), os.getsid(0) == os.getpid(), time.time() > 0)
            sys.stdout.flush()
            os._exit(3)
        read = b""
        while True:
            try:
                data = os.read(master, 1024)
            except OSError:  # EIO: the child's side is closed
                break
            if not data:
                break
            read += data
        _, status = os.waitpid(pid, 0)
        print("parent read", read.decode().strip(), "exit", os.waitstatus_to_exitcode(status))
    """)
    run = record_and_verify(record, 1, "program.py")[0]
    assert run.stdout == "parent read child True True True True exit 3\n"
    root, child = tree(run)
    assert (child["parent"], child["started"], child["exit_status"]) == (root["pid"], "fork", 3)
    replayed = cli("replay", str(run.path), "--pid", str(child["pid"]))
    assert (replayed.status, replayed.stdout) == (3, "child True True True True\n")


def test_a_pseudo_terminal_set_up_by_the_parent_replays_in_both_processes(record, write_program):
    # blessed's tests turn echo off and set the window size on the pty's master before the
    # child runs: termios and ioctl calls on a descriptor a replay does not have open (there
    # they failed, and the test ended early: "the tape expected os.write(12, ...)"). A
    # buffer ioctl fills in place is filled again from the tape.
    write_program("""
        import array, fcntl, os, pty, struct, sys, termios
        pid, master = pty.fork()
        if pid == 0:
            os.read(0, 2)  # the parent's go
            size = os.get_terminal_size(1)
            raw = fcntl.ioctl(1, termios.TIOCGWINSZ, b"\\0" * 8)
            buffer = array.array("H", [0, 0, 0, 0])
            fcntl.ioctl(1, termios.TIOCGWINSZ, buffer, True)
            echo = bool(termios.tcgetattr(0)[3] & termios.ECHO)
            print("child", size.lines, size.columns, struct.unpack("HHHH", raw)[:2], list(buffer)[:2], "echo", echo)
            sys.stdout.flush()
            os._exit(0)
        attrs = termios.tcgetattr(master)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(master, termios.TCSANOW, attrs)
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        os.write(master, b"g\\n")
        read = b""
        while True:
            try:
                data = os.read(master, 1024)
            except OSError:
                break
            if not data:
                break
            read += data
        os.waitpid(pid, 0)
        print("parent read", read.decode().strip())
    """)
    run = record_and_verify(record, 1, "program.py")[0]
    assert run.stdout == "parent read child 33 101 (33, 101) [33, 101] echo False\n", run.stderr
    child = tree(run)[1]
    replayed = cli("replay", str(run.path), "--pid", str(child["pid"]))
    assert (replayed.status, replayed.stdout) == (0, "child 33 101 (33, 101) [33, 101] echo False\n")


def test_a_terminal_question_about_a_pipe_raises_termios_error_in_the_replay(record, write_program):
    # ptyprocess asks tcgetattr about stdout when it is imported and falls back on
    # `except termios.error`: the replay raised a RuntimeError in its place, the import
    # failed, and pexpect's suite diverged while collecting its first test file.
    write_program("""
        import signal, termios
        try:
            termios.tcgetattr(1)
        except termios.error as error:
            print("not a terminal", error.args[0])
        try:
            signal.setitimer(signal.ITIMER_REAL, -1)
        except signal.ItimerError as error:
            print("bad timer", type(error).__name__)
    """)
    run = record("program.py")  # (stdout is a pipe here; the fixture verifies the recording)
    assert run.status == 0, run.stderr
    assert run.stdout == "not a terminal 25\nbad timer itimer_error\n"
