"""Messages between the controller and its workers: msgpack over SOCK_SEQPACKET.

A seqpacket socket keeps message boundaries, so one ``send`` is one message and one
``recv`` gets it whole. The socket is ``_socket.socket``: in a replay worker the methods
of ``socket.socket`` answer from the tape. Every worker and snapshot connects to the controller's
listening socket when it is born and introduces itself; a closed connection means the
other side is gone (a paused snapshot exits when its controller dies).
"""
from __future__ import annotations

import _socket

import msgpack

MAX_MESSAGE = 64 * 1024 * 1024


class Channel:
    def __init__(self, sock) -> None:
        self.sock = sock

    @classmethod
    def connect(cls, path: str) -> Channel:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        sock.connect(path)
        return cls(sock)

    def send(self, message: dict) -> None:
        data = msgpack.packb(message, use_bin_type=True)
        if len(data) > MAX_MESSAGE:
            raise ValueError(f"message of {len(data)} bytes is too large")
        self.sock.sendall(data)

    def recv(self) -> dict | None:
        """The next message, or None when the other side has gone."""
        try:
            data = self.sock.recv(MAX_MESSAGE)
        except (ConnectionResetError, OSError):
            return None
        if not data:
            return None
        return msgpack.unpackb(data, raw=False, strict_map_key=False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def listen(path: str):
    """The controller's listening socket (the controller is never replayed: plain socket)."""
    import socket

    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(path)
    server.listen(128)
    return server
