"""The controller↔worker connection: messages of any size over SOCK_SEQPACKET.

A seqpacket socket keeps packet boundaries, but one packet is limited by the socket's
buffer (about 200 KB by default): the indexing pass's reply for a long run is larger.
So a message goes as one or more packets of at most ``CHUNK`` bytes, each led by one
byte that says whether more of the message follows. A connection carries one message at
a time, so the packets of two messages never interleave; and as every packet is read
whole, ``select`` on the socket still means "a message has begun to arrive". What the
packets carry is :mod:`messages`; this module only moves bytes.

(Measured for a 5 MB reply: the framing costs a few milliseconds against about 80 ms of
msgpack decoding; a length-prefixed stream or a file in the session folder were no
faster, and a stream would need a buffer that ``select`` cannot see.)

The socket is ``_socket.socket``: in a replay worker the methods of ``socket.socket``
answer from the tape. Every worker and snapshot connects to the controller's listening
socket when it is born and introduces itself; a closed connection means the other side
is gone (a paused snapshot exits when its controller dies).
"""
from __future__ import annotations

import _socket

import msgpack

from retrace_core.boundary.fd_numbers import out_of_the_way
from retrace_core.control import messages

CHUNK = 64 * 1024  # bytes of message per packet; well under the default socket buffer
_MORE, _LAST = b"\x01", b"\x00"


class Channel:
    """One connection between the controller and one worker or snapshot."""

    def __init__(self, sock) -> None:
        self.sock = sock

    @classmethod
    def connect(cls, path: str) -> Channel:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        # Out of the program's way: a worker's and a snapshot's connections live in the
        # program's process, whose recorded descriptors a replay makes real (fd_numbers.py).
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET, 0, out_of_the_way(sock.detach()))
        # Blocking, whatever the program set: a new socket takes socket.setdefaulttimeout()'s
        # value, and a snapshot connects in the program's process, after the program's own
        # setting. With one, every snapshot and worker waiting longer for an order took the
        # timeout for the controller's end and exited.
        sock.settimeout(None)
        sock.connect(path)
        return cls(sock)

    def send(self, message: messages.Message) -> None:
        self.send_bytes(msgpack.packb(message.encode(), use_bin_type=True))

    def send_bytes(self, data: bytes) -> None:
        view = memoryview(data)
        for start in range(0, max(len(view), 1), CHUNK):
            part = view[start:start + CHUNK]
            header = _MORE if start + CHUNK < len(view) else _LAST
            self.sock.sendmsg([header, part])  # a seqpacket send is all or nothing

    def recv(self) -> messages.Message | None:
        """The next message, or None when the other side has gone."""
        data = self.recv_bytes()
        if data is None:
            return None
        return messages.decode(msgpack.unpackb(data, raw=False, strict_map_key=False))

    def recv_bytes(self) -> bytes | None:
        parts = []
        while True:
            try:
                packet = self.sock.recv(CHUNK + 1)
            except OSError:  # ConnectionResetError among others
                return None
            if not packet:
                return None
            parts.append(packet[1:])
            if packet[:1] == _LAST:
                return b"".join(parts)

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
