"""Replaying sockets: the program runs again with the network and its peers gone.

Each recording here is also verified by the `record` fixture. The tests check what a
user sees of `retrace-tui replay` (same bytes, same exit status) and that the replay
reached nothing: no connection, no file, no process.
"""
import os
import shutil
import socket
import subprocess
import sys
from ast import literal_eval
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import clean_environment

# A TCP server thread and a client in one process; the server waits through a selector.
SERVER_THREAD_PROGRAM = """
    import selectors, socket, threading
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    seen = {}

    def serve():
        with selectors.DefaultSelector() as chooser:
            chooser.register(server, selectors.EVENT_READ, data="listener")
            ready = chooser.select(10)
            seen["selected"] = [(key.fileobj is server, key.data) for key, _ in ready]
        conn, peer = server.accept()
        with conn:
            request = b""
            for _ in range(100):
                chunk = conn.recv(5)
                request += chunk
                if not chunk or request.endswith(b"\\n"):
                    break
            conn.sendall(request.upper())
            seen["conn"] = (isinstance(conn, socket.socket), conn.fileno(), conn.gettimeout(),
                            conn.family.name, conn.type.name, conn.getpeername() == peer)

    thread = threading.Thread(target=serve)
    thread.start()
    client = socket.create_connection(server.getsockname(), timeout=10)
    client.sendall(b"hello over tcp\\n")
    reply = client.makefile("rb").readline()
    thread.join(10)
    print("selected", seen["selected"])
    print("conn", seen["conn"])
    print("client", (client.fileno(), client.gettimeout(), client.getblocking(), client.proto))
    print("server", (server.fileno(), server.getsockname()))
    print("reply", reply)
    print("repr", repr(client).split(", laddr")[0])
    client.close()
    server.close()
    print("closed", (client.fileno(), repr(server).split(" fd")[0]))
"""


def printed(text: str) -> dict:
    """The program's `name repr` lines, as {name: value}."""
    lines = {}
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        lines[name] = literal_eval(rest) if rest.startswith(("(", "[", "b'")) else rest
    return lines


def replay(path, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    """`retrace-tui replay REC` as a user runs it, with its output kept as bytes."""
    return subprocess.run([sys.executable, "-m", "retrace_tui", "replay", str(path)], cwd=cwd,
                          env=clean_environment(env), capture_output=True, timeout=120)


def test_server_thread_and_client_replay_without_the_network(record, write_program, tmp_path):
    write_program(SERVER_THREAD_PROGRAM)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run.stdout)
    assert lines["selected"] == [(True, "listener")]
    assert lines["reply"] == b"HELLO OVER TCP\n"
    assert lines["conn"][0] is True and lines["conn"][2:] == (None, "AF_INET", "SOCK_STREAM", True)
    assert lines["client"][1:] == (10.0, True, socket.IPPROTO_TCP)
    assert lines["closed"] == (-1, "<socket.socket [closed]")
    _fd, (host, port) = lines["server"]

    # Something listens on the recorded port now: a replay that connected would reach it.
    with socket.socket() as trap:
        trap.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        trap.bind((host, port))  # the recorded server is gone, and SO_REUSEADDR passes TIME_WAIT
        trap.listen(8)
        trap.settimeout(0.2)
        replayed = replay(run.path, cwd=tmp_path)
        with pytest.raises(TimeoutError):
            trap.accept()
    assert replayed.returncode == 0, replayed.stderr.decode()
    assert replayed.stdout.decode() == run.stdout  # fds, timeouts, families and bytes as recorded


GIT_LOOKALIKE = """#!/bin/sh
echo "$@" >> "{marker}"
echo "git version 0.0.0-not-the-real-one"
"""

SERVER = """
    import json, os, socket, sys
    with open(sys.argv[1], "a") as log:
        log.write(f"server started as {os.getpid()}\\n")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(20)
    print(listener.getsockname()[1], flush=True)
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(20)
        request = b""
        for _ in range(1000):
            chunk = conn.recv(4096)
            request += chunk
            if not chunk or request.endswith(b"\\n"):
                break
        numbers = json.loads(request)["numbers"]
        conn.sendall(json.dumps({"total": sum(numbers), "count": len(numbers)}).encode() + b"\\n")
    listener.close()
"""

CLIENT = """
    import json, socket, subprocess, sys
    server_log = sys.argv[1]
    with open("data.json") as source:
        numbers = json.load(source)["numbers"]
    git = subprocess.run(["git", "--version"], capture_output=True, timeout=30)
    server = subprocess.Popen([sys.executable, "server.py", server_log], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
            conn.sendall(json.dumps({"numbers": numbers}).encode() + b"\\n")
            with conn.makefile("rb") as replies:
                answer = json.loads(replies.readline())
    finally:
        server.stdout.close()
        server.wait(timeout=30)
    with open("report.txt", "w") as report:
        report.write(f"{answer['count']} numbers, total {answer['total']}\\n")
    print("git", git.returncode, git.stdout.decode().split()[:2])
    print("port", port > 0, "server exit", server.returncode)
    print("answer", answer)
    print("report written")
    sys.exit(3)
"""


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git on PATH")
def test_data_file_report_git_and_a_server_process_replay_with_all_of_them_gone(record, write_program, tmp_path):
    work, bin_dir, quiet = tmp_path / "work", tmp_path / "bin", tmp_path / "quiet"
    for folder in (work, bin_dir, quiet):
        folder.mkdir()
    server_log, marker = tmp_path / "server.log", tmp_path / "git-was-run"
    write_program(CLIENT)
    write_program(SERVER, name="work/server.py")
    (work / "data.json").write_text('{"numbers": [3, 5, 8, 13]}')
    # bin comes first on PATH: empty while recording, it holds a lookalike git during replay.
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    run = record(str(tmp_path / "program.py"), str(server_log), cwd=work, env={"PATH": path}, timeout=90)
    assert run.status == 3, run.stderr
    assert run.stdout == ("git 0 ['git', 'version']\nport True server exit 0\n"
                          "answer {'total': 29, 'count': 4}\nreport written\n")
    assert (work / "report.txt").read_text() == "4 numbers, total 29\n"
    assert server_log.read_text().count("server started") == 1

    for name in ("data.json", "report.txt", "server.py"):
        (work / name).unlink()
    lookalike = bin_dir / "git"
    lookalike.write_text(GIT_LOOKALIKE.format(marker=marker))
    lookalike.chmod(0o755)
    log_before = server_log.read_bytes()

    replayed = replay(run.path, cwd=quiet, env={"PATH": path})
    assert replayed.stdout == run.stdout.encode() and replayed.stderr == run.stderr.encode()
    assert replayed.returncode == 3
    # Nothing was made or started: no file in the program's folder or ours, no server, no git.
    assert list(work.iterdir()) == [] and list(quiet.iterdir()) == []
    assert server_log.read_bytes() == log_before
    assert not marker.exists()


def test_twenty_replays_of_a_socket_program_print_identical_bytes(record, write_program, tmp_path):
    write_program(SERVER_THREAD_PROGRAM)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    with ThreadPoolExecutor(4) as pool:
        outputs = list(pool.map(lambda _: replay(run.path, cwd=tmp_path), range(20)))
    assert {(done.returncode, done.stdout, done.stderr) for done in outputs} == {(0, run.stdout.encode(), b"")}


def test_scattered_reads_duplicates_and_detached_fds_replay(record, write_program, tmp_path):
    write_program("""
        import os, socket
        a, b = socket.socketpair()
        b.settimeout(5)
        print("sendmsg", a.sendmsg([b"scatter", b"ed bytes"]))
        first, second = bytearray(4), bytearray(16)
        count, ancdata, flags, _address = b.recvmsg_into([first, memoryview(second)])
        print("recvmsg_into", (count, bytes(first), bytes(second[:count - 4]), ancdata, flags))
        copy = b.dup()
        same = socket.fromfd(copy.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
        print("dup", (copy.fileno() != b.fileno(), same.fileno() not in (b.fileno(), copy.fileno()),
                      copy.gettimeout(), same.gettimeout(), same.family.name))
        a.sendall(b"to the copy")
        print("copied", same.recv(64))
        fd = copy.detach()
        again = socket.socket(fileno=fd)
        print("detached", (copy.fileno(), again.fileno() == fd, again.type.name))
        for s in (a, b, same, again):
            s.close()
        print("closed", [s.fileno() for s in (a, b, same, again)])
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run.stdout)
    assert lines["recvmsg_into"] == (15, b"scat", b"tered bytes", [], 0)
    assert lines["dup"] == (True, True, 5.0, None, "AF_UNIX") and lines["copied"] == b"to the copy"
    assert lines["detached"] == (-1, True, "SOCK_STREAM") and lines["closed"] == [-1, -1, -1, -1]
    replayed = replay(run.path, cwd=tmp_path)
    assert (replayed.returncode, replayed.stdout) == (0, run.stdout.encode())


def test_a_socket_whose_recorded_fd_is_taken_in_replay_still_shows_it(record, write_program, tmp_path):
    write_program("""
        import os, socket
        f = open(__file__, "rb", buffering=0)
        fd = f.fileno()
        os.close(fd)  # the recording frees the number; the replay keeps its stand-in file open there
        s = socket.socket()
        print("taken", (s.fileno() == fd, repr(s).split(", laddr")[0].replace(f"={fd},", "=N,")))
        with socket.socket() as t:
            print("next", (t.fileno() - fd, t.type.name))
        s.close()
        print("closed", (s.fileno(), repr(s).split(" fd")[0]))
        try:
            f.close()
        except OSError as exc:
            print("file", (exc.errno,))
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    assert printed(run.stdout)["taken"] == (True, "<socket.socket fd=N, family=2, type=1, proto=0")
    replayed = replay(run.path, cwd=tmp_path)
    assert (replayed.returncode, replayed.stdout) == (0, run.stdout.encode())
