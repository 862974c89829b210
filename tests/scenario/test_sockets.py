"""Sockets: what the program sent, received and was told is what the tape holds."""
import builtins
import importlib
import socket
from ast import literal_eval
from binascii import crc32

from conftest import calls, printed


def test_tcp_conversation_with_a_server_thread(record, write_program):
    write_program("""
        import socket, threading
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.settimeout(10)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        accepted = []

        def serve():
            conn, peer = server.accept()
            with conn:
                data = conn.recv(1024)
                conn.sendall(data.upper())
                accepted.append((type(conn), conn.fileno(), peer, conn.gettimeout(), data))

        thread = threading.Thread(target=serve)
        thread.start()
        client = socket.socket()
        client.settimeout(10)
        client.connect(server.getsockname())
        client.sendall(b"hello, server")
        buffer = bytearray(64)
        count = client.recv_into(buffer)
        thread.join(10)
        kind, fd, peer, timeout, data = accepted[0]
        print("server", repr((server.fileno(), server.getsockname())))
        print("client", repr((client.fileno(), client.getsockname())))
        print("accepted", repr((f"{kind.__module__}.{kind.__qualname__}", fd, peer, timeout, data)))
        print("reply", repr(bytes(buffer[:count])))
        client.close()
        server.close()
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run, literal=False)
    server_fd, server_address = literal_eval(lines["server"])
    client_fd, client_address = literal_eval(lines["client"])
    kind, conn_fd, peer, timeout, data = literal_eval(lines["accepted"])
    tape = run.tape()

    created = calls(tape, "socket.socket")
    assert [event.value for event in created] == [[server_fd, socket.AF_INET, socket.SOCK_STREAM, 0, None],
                                                  [client_fd, socket.AF_INET, socket.SOCK_STREAM, 0, None]]
    assert [e.arguments for e in calls(tape, "socket.socket.settimeout")] == [(server_fd, 10), (client_fd, 10)]
    assert [e.arguments for e in calls(tape, "socket.socket.bind")] == [(server_fd, ("127.0.0.1", 0))]
    assert [e.arguments for e in calls(tape, "socket.socket.listen")] == [(server_fd, 1)]
    names = calls(tape, "socket.socket.getsockname")
    assert names[-2].value == server_address and names[-1].value == client_address
    connect, = calls(tape, "socket.socket.connect")
    assert connect.arguments == (client_fd, names[0].value)

    # accept keeps what a replay needs to build the new socket, and that socket is recorded too.
    accept, = calls(tape, "socket.socket.accept")
    assert accept.arguments == (server_fd,)
    assert accept.value == [[conn_fd, socket.AF_INET, socket.SOCK_STREAM, 0, timeout], peer]
    assert accept.thread != connect.thread
    assert kind == "socket.socket"
    recv, = calls(tape, "socket.socket.recv")
    assert recv.arguments == (conn_fd, 1024) and recv.value == data == b"hello, server"

    # Writes keep length and CRC; reads keep their bytes, as the program saw them.
    sendall = calls(tape, "socket.socket.sendall")
    assert sorted(event.arguments for event in sendall) == sorted([
        (client_fd, [13, crc32(b"hello, server")]), (conn_fd, [13, crc32(b"HELLO, SERVER")])])
    recv_into, = calls(tape, "socket.socket.recv_into")
    assert recv_into.arguments == (client_fd, 64)
    assert lines["reply"] == repr(recv_into.value) == repr(b"HELLO, SERVER")
    closed = [event.arguments[0] for event in calls(tape, "socket.socket.close")]
    assert sorted(closed) == sorted([conn_fd, client_fd, server_fd])
    assert tape.complete


def test_datagrams_with_addresses(record, write_program):
    write_program("""
        import socket
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (a, b):
            s.settimeout(10)
            s.bind(("127.0.0.1", 0))
        print("sent", b.sendto(b"ping", a.getsockname()))
        data, sender = a.recvfrom(100)
        print("recvfrom", repr((data, sender)))
        a.sendto(b"pong!", 0, sender)
        buffer = bytearray(16)
        count, sender = b.recvfrom_into(buffer)
        print("recvfrom_into", count, repr((bytes(buffer[:count]), sender)))
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run, literal=False)
    tape = run.tape()
    sendto = calls(tape, "socket.socket.sendto")
    assert [event.arguments[1:] for event in sendto] == [
        ([4, crc32(b"ping")], calls(tape, "socket.socket.getsockname")[0].value),
        ([5, crc32(b"pong!")], 0, calls(tape, "socket.socket.recvfrom")[0].value[1])]
    assert lines["sent"] == str(sendto[0].value) == "4"
    recvfrom, = calls(tape, "socket.socket.recvfrom")
    assert lines["recvfrom"] == repr(recvfrom.value)
    into, = calls(tape, "socket.socket.recvfrom_into")
    assert into.arguments[1:] == (16,)
    assert lines["recvfrom_into"] == f"5 {into.value!r}"


def test_errors_are_recorded_as_raised_and_name_their_class(record, write_program):
    write_program("""
        import socket
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
        probe.close()  # nothing listens there any more

        def report(name, exc):
            print(name, type(exc).__name__, exc.errno, repr(exc.args))

        client = socket.socket()
        client.settimeout(10)
        try:
            client.connect(("127.0.0.1", closed_port))
        except ConnectionRefusedError as exc:
            report("refused", exc)
        client.close()
        with socket.socket() as other:
            print("connect_ex", other.connect_ex(("127.0.0.1", closed_port)))
        a, b = socket.socketpair()
        a.settimeout(0.05)
        try:
            a.recv(10)
        except socket.timeout as exc:
            report("timeout", exc)
        a.setblocking(False)
        try:
            a.recv(10)
        except BlockingIOError as exc:
            report("blocking", exc)
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run, literal=False)
    tape = run.tape()
    raised = [event for event in tape.events if event.raised]
    assert [event.function for event in raised] == [
        "socket.socket.connect", "socket.socket.recv", "socket.socket.recv"]
    for event, name in zip(raised, ("refused", "timeout", "blocking")):
        module, qualname, arguments, extra = event.value
        cls = getattr(builtins if module == "builtins" else importlib.import_module(module), qualname)
        class_name, errno, args = lines[name].split(" ", 2)
        assert cls.__name__ == class_name
        assert str(extra["errno"]) == errno and repr(tuple(arguments)) == args
    assert raised[1].value[1] == "TimeoutError"  # socket.timeout is TimeoutError
    connect_ex = calls(tape, "socket.socket.connect_ex")[0]
    assert lines["connect_ex"] == str(connect_ex.value) and connect_ex.value != 0
    assert calls(tape, "socket.socket.setblocking")[0].arguments[1:] == (False,)


def test_name_lookups_keep_their_results_and_types(record, write_program):
    write_program("""
        import socket
        print("getaddrinfo", repr(socket.getaddrinfo("localhost", 8080, socket.AF_INET, socket.SOCK_STREAM)))
        print("gethostname", socket.gethostname())
        print("gethostbyname", socket.gethostbyname("localhost"))
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run, literal=False)
    tape = run.tape()
    lookup, = calls(tape, "socket.getaddrinfo")
    assert lookup.arguments == ("localhost", 8080, socket.AF_INET, socket.SOCK_STREAM)
    assert lines["getaddrinfo"] == repr(lookup.value)
    assert type(lookup.value[0][0]) is socket.AddressFamily and type(lookup.value[0][1]) is socket.SocketKind
    assert lines["gethostname"] == calls(tape, "socket.gethostname")[0].value
    assert lines["gethostbyname"] == calls(tape, "socket.gethostbyname")[0].value


def test_socketpair_makefile_options_shutdown_and_detach(record, write_program):
    write_program("""
        import os, socket
        a, b = socket.socketpair()
        print("pair", a.fileno(), b.fileno())
        a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        print("option", a.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
        reader = a.makefile("rb")
        a.close()  # the fd stays open while the reader uses it
        b.sendall(b"one line\\nthe rest")
        b.shutdown(socket.SHUT_WR)
        print("read", repr(reader.readline()), repr(reader.read()))
        reader.close()
        fd = b.detach()
        print("detached", fd)
        os.close(fd)
    """)
    run = record("program.py", timeout=60)
    assert run.status == 0, run.stderr
    lines = printed(run, literal=False)
    fa, fb = map(int, lines["pair"].split())
    tape = run.tape()
    pair, = calls(tape, "socket.socketpair")
    assert pair.value == [[fa, socket.AF_UNIX, socket.SOCK_STREAM, 0, None],
                          [fb, socket.AF_UNIX, socket.SOCK_STREAM, 0, None]]
    assert not calls(tape, "socket.socket")  # built inside socketpair: part of its one event
    assert calls(tape, "socket.socket.setsockopt")[0].arguments == (fa, socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    assert lines["option"] == str(calls(tape, "socket.socket.getsockopt")[0].value)
    received = b"".join(event.value for event in calls(tape, "socket.socket.recv_into"))
    first, rest = b"one line\n", b"the rest"
    assert lines["read"] == f"{first!r} {rest!r}" and received == first + rest
    assert calls(tape, "socket.socket.shutdown")[0].arguments == (fb, socket.SHUT_WR)
    # a's fd is really closed when the reader lets go of it, after every read.
    close, = calls(tape, "socket.socket.close")
    assert close.arguments == (fa,)
    assert close.number > max(event.number for event in calls(tape, "socket.socket.recv_into"))
    detach, = calls(tape, "socket.socket.detach")
    assert lines["detached"] == str(detach.value) == str(fb)
    assert calls(tape, "os.close")[-1].arguments == (fb,)
