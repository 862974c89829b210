"""Readiness waits: the tape holds the fds waited on and the fds found ready.

Every recording here also replays (the `record` fixture verifies it), the selectors
tests' listening socket included.
"""
import select

import pytest

from conftest import calls, printed


def test_select_records_fds_and_gives_back_the_programs_own_objects(record, write_program):
    write_program("""
        import os, select
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        reader = open(r1, "rb", buffering=0)

        class Waitable:  # anything with fileno() will do, as for select itself
            def fileno(self):
                return w2

        waitable = Waitable()
        print("fds", (r1, w1, r2, w2))
        os.write(w1, b"x")
        ready = select.select([reader, r2], [waitable], [], 5)
        print("first", ([o is reader for o in ready[0]], [o is waitable for o in ready[1]], ready[2]))
        os.write(w2, b"y")
        ready = select.select([r2, reader, reader], [], [reader], 5)
        print("second", ([o is reader for o in ready[0]], ready[0].count(r2), len(ready[2])))
        print("nothing", select.select([], [], [], 0))
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run)
    r1, _w1, r2, w2 = lines["fds"]
    tape = run.tape()
    first, second, nothing = calls(tape, "select.select")
    assert first.arguments == ([r1, r2], [w2], [], 5) and first.value == ([r1], [w2], [])
    assert lines["first"] == ([True], [True], [])
    # Order and repeats as the program gave them; every object whose fd is ready.
    assert second.arguments == ([r2, r1, r1], [], [r1], 5)
    assert sorted(second.value[0]) == sorted([r2, r1, r1]) and second.value[2] == []
    assert lines["second"] == ([False, True, True], 1, 0)
    assert nothing.arguments == ([], [], [], 0) and nothing.value == ([], [], []) == lines["nothing"]


def test_poll_object_calls_are_events(record, write_program):
    write_program("""
        import os, select
        r, w = os.pipe()
        poller = select.poll()
        poller.register(open(r, "rb", buffering=0, closefd=False), select.POLLIN)
        poller.register(w)
        print("writable", poller.poll(0))
        os.write(w, b"x")
        poller.modify(w, select.POLLIN)
        print("ready", poller.poll(1000))
        poller.unregister(w)
        try:
            poller.unregister(w)
        except KeyError as exc:
            print("missing", exc.args)
        print("fds", (r, w))
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run)
    r, w = lines["fds"]
    tape = run.tape()
    assert [e.value for e in calls(tape, "select.poll")] == [None]
    assert [e.arguments for e in calls(tape, "select.poll.register")] == [(r, select.POLLIN), (w,)]
    assert [e.arguments for e in calls(tape, "select.poll.modify")] == [(w, select.POLLIN)]
    writable, ready = calls(tape, "select.poll.poll")
    assert writable.arguments == (0,) and writable.value == lines["writable"] == [(w, select.POLLOUT)]
    assert ready.arguments == (1000,) and ready.value == lines["ready"] == [(r, select.POLLIN)]
    gone, missing = calls(tape, "select.poll.unregister")
    assert gone.arguments == missing.arguments == (w,)
    assert missing.raised and missing.value[:3] == ["builtins", "KeyError", list(lines["missing"])]


def test_epoll_object_calls_are_events(record, write_program):
    write_program("""
        import os, select
        r, w = os.pipe()
        with select.epoll() as poller:
            print("epoll", (poller.fileno(), isinstance(poller, select.epoll)))
            poller.register(r, select.EPOLLIN)
            os.write(w, b"x")
            print("ready", poller.poll(timeout=5))
            poller.modify(r, select.EPOLLIN | select.EPOLLET)
            print("again", poller.poll(0.01, 4))
            poller.unregister(r)
        print("closed", poller.closed)
        print("fds", (r, w))
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run)
    epfd, is_epoll = lines["epoll"]
    r, _w = lines["fds"]
    tape = run.tape()
    created = calls(tape, "select.epoll")[-1]  # importing selectors may probe epoll first
    assert created.arguments == (-1, 0) and created.value == epfd and is_epoll
    assert calls(tape, "select.epoll.register")[0].arguments == (epfd, r, select.EPOLLIN)
    ready, again = calls(tape, "select.epoll.poll")
    assert ready.arguments == [(epfd,), {"timeout": 5}] and ready.value == lines["ready"] == [(r, select.EPOLLIN)]
    assert again.arguments == (epfd, 0.01, 4) and again.value == lines["again"]
    assert calls(tape, "select.epoll.modify")[0].arguments == (epfd, r, select.EPOLLIN | select.EPOLLET)
    assert calls(tape, "select.epoll.unregister")[0].arguments == (epfd, r)
    assert calls(tape, "select.epoll.close")[-1].arguments == (epfd,) and lines["closed"] is True


@pytest.mark.parametrize("selector, kind", [("DefaultSelector", "select.epoll"),
                                            ("PollSelector", "select.poll"),
                                            ("SelectSelector", "select.select")])
def test_selectors_with_a_listening_socket(record, write_program, selector, kind):
    write_program(f"""
        import selectors, socket
        server = socket.create_server(("127.0.0.1", 0))
        server.setblocking(False)
        with selectors.{selector}() as chooser:
            chooser.register(server, selectors.EVENT_READ, data="server")
            print("idle", [key.data for key, _ in chooser.select(0)])
            client = socket.create_connection(server.getsockname(), timeout=10)
            events = chooser.select(5)
            print("ready", [(key.fileobj is server, key.data, mask) for key, mask in events])
            conn, _ = server.accept()
        print("fds", (server.fileno(), client.fileno(), conn.fileno()))
        for s in (conn, client, server):
            s.close()
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run)
    server_fd, _client_fd, conn_fd = lines["fds"]
    assert lines["idle"] == [] and lines["ready"] == [(True, "server", 1)]
    tape = run.tape()
    accept, = calls(tape, "socket.socket.accept")
    assert accept.arguments == (server_fd,) and accept.value[0][0] == conn_fd
    if kind == "select.select":
        idle, ready = calls(tape, "select.select")
        assert idle.arguments == ([server_fd], [], [], 0) and idle.value == ([], [], [])
        assert ready.arguments == ([server_fd], [], [], 5) and ready.value == ([server_fd], [], [])
        return
    assert calls(tape, kind)  # the selector made its poll object through the recorded factory
    register, = calls(tape, kind + ".register")
    assert register.arguments[-2:] == (server_fd, select.POLLIN)
    idle, ready = calls(tape, kind + ".poll")
    assert idle.value == [] and ready.value == [(server_fd, select.POLLIN)]


def test_a_socket_closed_by_another_thread_while_select_waits_replays(record, write_program):
    """Found in requests' test server (V23): the main thread closed the listening socket
    while the server thread's select waited on it; select then reported it ready by its old
    fd, and accept failed with EBADF. Replayed, the server thread reached select after the
    close was replayed, its socket's fd read -1 and matched nothing: no socket was ready,
    the thread took another path and the replay diverged (3 of 3 recordings)."""
    write_program("""
        import select, socket, threading, time
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        result = []

        def wait():
            ready, _, _ = select.select([server], [], [], 3)
            result.append(len(ready))
            try:
                server.accept()
                result.append("accepted")
            except OSError as error:
                result.append(error.errno)

        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(0.3)  # the thread waits in select
        server.close()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError as error:
            result.append(("connect", error.errno))
        thread.join()
        print(result)
    """)
    run = record("program.py")  # verified after the test, as every recording
    assert run.status == 0, run.stderr
    assert run.stdout.startswith("[1, 9")  # ready, then EBADF: the race the replay must follow
