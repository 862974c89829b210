"""``os.fork()``: one event in the parent, and a tape of its own for the child.

Recording, the parent's event is the child's pid and the child's tape begins with the
same call returning 0 (see ``Recorder.fork``). Replaying a process, no child is started:
the pid comes from the tape. Replaying a forked process means replaying its parent up to
that fork and following the child: the worker forks for real there (so the child is a
process with one thread, as recorded), the other side waits for it and ends with its exit
status, and the player goes on with the child's tape.

At-fork handlers (``os.register_at_fork``) run unrecorded in both modes: the replay of
the parent does not fork, so their boundary calls could not be answered there.
"""
from __future__ import annotations

import posix
import signal

from retrace_core.bootstrap import children
from retrace_core.bootstrap import recorder as recorder_module
from retrace_core.boundary.guard import bypass, guard
from retrace_core.boundary.wrappers import Headers, copy_identity, non_binding
from retrace_core.control import lifetime

# pytest leaves frames of modules with this global out of its tracebacks.
__tracebackhide__ = True

_real_fork = posix.fork


class Fork:
    """``os.fork``: event ``() -> pid`` (0 in the child's own tape)."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, False)

        def recorded_fork():
            recorder = recorder_module.active
            if guard.busy or recorder is None or recorder.tape is not tape:
                return original()
            return recorder.fork(original, headers)

        return non_binding(copy_identity(recorded_fork, original))

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name

        def replayed_fork():
            if guard.busy:
                return original()
            if not player.follow:
                return player.answer(name, None)  # the child's pid; no child is started
            raised, _arguments, value = player.take(name, None)
            if raised or value != player.follow[0][0]:
                player.pass_turn()
                return player.result(raised, value)
            return _follow_child(player, name)

        return non_binding(copy_identity(replayed_fork, original))


def _follow_child(player, name: str) -> int:
    """At the fork that started the process being replayed: become it."""
    _pid, data, tape_name = player.follow.pop(0)
    with bypass():  # at-fork handlers run unrecorded, as they did when recording
        child = _real_fork()
    if child:
        _stand_in_for(child)
    lifetime.die_with_parent()  # whoever stops the replay stops it through the other side
    player.switch_to_forked_child(data, tape_name)
    value = player.answer(name, None)  # 0, the child's first event
    children.reseed_random()
    return value


def _stand_in_for(child: int) -> None:
    """The other side of the replay's fork: it holds nothing open (so the controller sees
    the child's connection close), waits for the child and ends as it ended."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the child's to handle
    except ValueError:
        pass  # forked from a thread other than the main one: signals are not ours to set
    posix.closerange(3, 0x7FFFFFFF)
    while True:
        try:
            _pid, status = posix.waitpid(child, 0)
            break
        except InterruptedError:
            continue
        except OSError:
            posix._exit(1)
    code = posix.waitstatus_to_exitcode(status)
    posix._exit(code if code >= 0 else 128 - code)
