"""The controller↔worker channel: typed messages of any size."""
import _socket
import os
import threading

from retrace_core.control import messages
from retrace_core.control.messages import (
    Breakpoint,
    Error,
    Finished,
    Fork,
    Hello,
    Inspect,
    Inspected,
    Quit,
    Reap,
    Reaped,
    Remember,
    Run,
    SnapshotTaken,
    Step,
    Stopped,
)
from retrace_core.control.protocol import Channel

EXAMPLES = [
    Run(), Run(target=7, snapshots=False, index=True,
               breakpoints=[Breakpoint("/p.py", 3), Breakpoint("/p.py", 4, "i < 0", True)],
               step=Step(0, 2), remember=Remember(True, Step(1)), stop_on_exception=True),
    Inspect(), Inspect("evaluate", 1, 2, ("a", "b"), "a + 1"), Fork(), Quit(), Reap([5, 6]),
    Hello("worker", 12, 0), SnapshotTaken(13, 100, 4), Stopped("step", 5, 1, 0, 2, None, "/p.py", 3, "f"),
    Finished(9, 2, 1, None, {"type": "E", "message": "m", "file": "/p.py", "line": 3}, 4,
             [1, 2], [[3, None]], [[4, "test-start", {"nodeid": "t"}]]),
    Inspected(frames=[{"file": "/p.py", "line": 3, "function": "f", "locals": []}], threads=[{"thread": 0}]),
    Reaped(), Error("no"),
]


def channels() -> tuple[Channel, Channel]:
    one, other = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    return Channel(one), Channel(other)


def test_every_message_comes_out_as_it_went_in():
    sender, receiver = channels()
    for message in EXAMPLES:
        sender.send(message)
        received = receiver.recv()
        assert received == message and type(received) is type(message)
    kinds = {type(message) for message in EXAMPLES}
    assert kinds >= set(messages._KINDS.values())


def test_a_message_far_larger_than_a_packet():
    sender, receiver = channels()
    big = Finished(10_000_000, 500_000, event_positions=list(range(0, 10_000_000, 20)),
                   markers=[[n, "test-start", {"nodeid": "x" * 100}] for n in range(20_000)])
    # The sender blocks until the receiver drains the socket: send from another thread.
    thread = threading.Thread(target=sender.send, args=(big,))
    thread.start()
    received = receiver.recv()
    thread.join()
    assert received == big
    sender.send(Error("next"))
    assert receiver.recv() == Error("next")
    sender.close()
    assert receiver.recv() is None


def test_a_message_of_any_size_crosses_a_fork():
    sender, receiver = channels()
    pid = os.fork()
    if pid == 0:
        receiver.close()
        sender.send(Inspected(children=[{"name": str(n), "repr": "y" * 50} for n in range(100_000)]))
        os._exit(0)
    sender.close()
    received = receiver.recv()
    os.waitpid(pid, 0)
    assert len(received.children) == 100_000
