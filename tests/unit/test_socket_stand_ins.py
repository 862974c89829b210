"""A replay's stand-in sockets never hash the program's socket objects.

A socket is the program's object: a first hash of it made by our code, through the
standard library's frames, took one of the program's stable-hash numbers in the replay
only (csrc/hashes.c numbers what code that is not ours hashes first), and every set of
objects the program made after it iterated otherwise than recorded: trio's tasks woke in
another order after a moved stand-in was asked for its fileno().
"""
import gc
import socket

from retrace_core.boundary import socket_stand_ins


class CountingSocket(socket.socket):
    """A socket that counts how often it is hashed."""

    hashed = 0

    def __hash__(self):
        CountingSocket.hashed += 1
        return 0


def test_a_moved_stand_in_answers_its_recorded_number_without_being_hashed():
    sock = CountingSocket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        socket_stand_ins._remember_moved(sock, 99)
        assert socket_stand_ins.recorded_fd(sock) == 99
        assert sock.fileno() != 99  # its own fd is another
        socket_stand_ins.release(sock)
        assert socket_stand_ins.recorded_fd(sock) == -1
        assert CountingSocket.hashed == 0
    finally:
        sock.close()


def test_a_moved_stand_in_is_forgotten_when_it_dies():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    socket_stand_ins._remember_moved(sock, 98)
    key = id(sock)
    sock.close()
    del sock
    gc.collect()
    assert key not in socket_stand_ins._moved
