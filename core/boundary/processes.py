"""Child processes: spawning them is one event whose result is the child's pid.

In replay no child is started: the pid comes from the tape, and so does everything the
program then learns of the child (pipe reads, ``waitpid``).

Waiting (``os.waitpid`` and kin) and signalling (``os.kill``) are plain table entries.
A child's pipes are ordinary fds, already recorded by the ``os.pipe`` / ``os.read`` /
``os.write`` / ``os.close`` / ``open`` entries, so what the program read from a child
is on the tape byte for byte. The environment handed to a child is shown with
secret-looking values redacted, as the recording's own environment is stored.
"""
from __future__ import annotations

import os
import posix

from retrace_core.bootstrap import children
from retrace_core.boundary.environment import KEEP_VARIABLE, PATTERNS_VARIABLE, stored_environment
from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import (
    Headers,
    call_arguments,
    copy_identity,
    module_function,
    non_binding,
    recording_function,
)

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True

_FORK_EXEC_ENV = 5  # position of env_list among fork_exec's arguments (3.11, 3.12)


def shown_environment(env) -> dict | None:
    """A child's environment (a mapping or ``[b"NAME=value", ...]``) as the tape shows it."""
    if env is None:
        return None
    try:
        child = _decoded(env)
    except Exception:  # not an environment at all: the real call raises for it
        return None
    # Redact by the recording's own settings, not by whatever the child is handed.
    settings = {name: os.environ[name] for name in (PATTERNS_VARIABLE, KEEP_VARIABLE) if name in os.environ}
    shown, _redacted = stored_environment({**child, **settings})
    for name in settings:
        if name not in child:
            shown.pop(name, None)
    return shown


def _decoded(env) -> dict:
    if hasattr(env, "items"):
        pairs = [(os.fsdecode(name), os.fsdecode(value)) for name, value in env.items()]
    else:
        pairs = [tuple(os.fsdecode(part) for part in item.partition(b"=" if isinstance(item, bytes) else "=")[::2])
                 for item in env]
    return dict(pairs)


class ForkExec:
    """``_posixsubprocess.fork_exec`` (what ``subprocess.Popen`` spawns with): event ``(...) -> pid``."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)

        def recorded_fork_exec(*args):
            if guard.busy:
                return original(*args)
            return record(headers, tape, lambda: _fork_exec_recording_python_children(original, args, tape),
                          _fork_exec_shown(args))

        return non_binding(copy_identity(recorded_fork_exec, original))

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name

        def replayed_fork_exec(*args):
            if guard.busy:
                return original(*args)
            return player.answer(name, _fork_exec_shown(args))  # the pid; no child is started

        return non_binding(copy_identity(replayed_fork_exec, original))


def _fork_exec_recording_python_children(original, args: tuple, tape) -> int:
    """Start the child; one that runs this interpreter runs recorded (see children.py)."""
    parent = children.current
    launched = None
    if parent is not None:
        try:
            launched = children.recorded_arguments(args, parent)
        except Exception as exc:  # our bug: the child starts as asked, unrecorded
            tape.fault(exc)
    pid = original(*(launched or args))
    if launched is not None:
        parent.children.append(pid)
    return pid


def _spawn_recording_python_children(original, args: tuple, kwargs: dict, tape, search_path: bool) -> int:
    """Spawn the child; one that runs this interpreter runs recorded (see children.py)."""
    parent = children.current
    launched = None
    if parent is not None:
        try:
            launched = children.recorded_spawn_arguments(*args, parent, search_path)
        except Exception as exc:  # our bug: the child starts as asked, unrecorded
            tape.fault(exc)
    pid = original(*(launched or args), **kwargs)
    if launched is not None:
        parent.children.append(pid)
    return pid


def _fork_exec_shown(args: tuple) -> tuple:
    shown = list(args)
    if len(shown) > _FORK_EXEC_ENV:
        shown[_FORK_EXEC_ENV] = shown_environment(shown[_FORK_EXEC_ENV])
    return tuple(shown)


class Spawn:
    """``os.posix_spawn`` / ``os.posix_spawnp``: event ``(path, argv, env, ...) -> pid``."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)

        search_path = entry.name == "posix_spawnp"

        def recorded_spawn(path, argv, env, /, **kwargs):
            if guard.busy:
                return original(path, argv, env, **kwargs)
            return record(headers, tape,
                          lambda: _spawn_recording_python_children(original, (path, argv, env), kwargs, tape,
                                                                   search_path),
                          call_arguments((path, argv, shown_environment(env)), kwargs))

        return non_binding(copy_identity(recorded_spawn, original))

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name

        def replayed_spawn(path, argv, env, /, **kwargs):
            if guard.busy:
                return original(path, argv, env, **kwargs)
            return player.answer(name, call_arguments((path, argv, shown_environment(env)), kwargs))

        return non_binding(copy_identity(replayed_spawn, original))


class Kill:
    """``os.kill``: an effect, not performed in a replay, except for a signal the process
    sent to itself (its recorded pid): its handler ran in the recording, and a program that
    waits for it (``signal.pause()``, a test of its own ``KeyboardInterrupt``) would wait in
    the replay forever. It is sent again there, to the replay's own process."""

    @staticmethod
    def record(entry, original, tape):
        return module_function(recording_function(original, tape, entry.qualified_name, True), original)

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name

        def kill(pid, signal_number, /):  # both positional only, as os.kill's
            if guard.busy:
                return original(pid, signal_number)
            result = player.answer(name, (pid, signal_number))
            if signal_number and pid == player.header.get("pid"):
                original(posix.getpid(), signal_number)  # posix's: os.getpid answers from the tape
            return result

        return module_function(kill, original)


class ProcessHashedByIdentity:
    """``multiprocessing.process.BaseProcess.__hash__``: a process object hashes by its
    ``_identity`` (the numbers multiprocessing gives it as it is made), not its address.
    ``Process.start()`` first polls every child in the set ``_children``, in the set's
    order, which followed the objects' addresses: a replay asked ``os.waitpid`` of the
    children in another order and gave one child's exit status to another (six children
    started and terminated at once diverged in 1 recording of 1)."""

    @staticmethod
    def _make(entry, original, channel):
        def __hash__(self):
            identity = self.__dict__.get("_identity")
            return hash(identity) if identity else original(self)

        __hash__.__qualname__ = f"{entry.name.rpartition('.')[0]}.__hash__"
        return __hash__

    record = replay = _make


class Exec:
    """``os.execv`` and ``os.execve`` (``os.execl``, ``execvp`` and the rest call them): the
    process becomes another program. Recorded, the event is written and the tape put on
    the disk before the call, which does not return (what the buffer held was lost with the
    process image: sh's children, forked to exec a command, left tapes that ended before
    their last calls); a failed exec adds ``NAME.failed`` with its exception. Replayed,
    nothing is executed: the replay of this process ends there, as its recording did
    (before, the replay ran the command for real and vanished into it)."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, entry.qualified_name, True)
        failed = Headers(tape, entry.qualified_name + ".failed", True)

        def recorded_exec(path, args, *env):
            if guard.busy:
                return original(path, args, *env)
            shown = _exec_shown(path, args, env)
            try:
                tape.returned_with_arguments(headers.returned, shown, None)
                tape.flush()
            except Exception as exc:  # our bug: the exec goes ahead
                tape.fault(exc)
            try:
                return original(path, args, *env)
            except BaseException as exc:
                tape.raised(failed.raised, shown, exc)
                raise

        return module_function(recorded_exec, original)

    @staticmethod
    def replay(entry, original, player):
        name = entry.qualified_name
        failed = name + ".failed"

        def replayed_exec(path, args, *env):
            if guard.busy:
                return original(path, args, *env)
            shown = _exec_shown(path, args, env)
            player.answer(name, shown)
            following = player.next_event
            if following is not None and following[1] == failed:
                return player.answer(failed, shown)  # raises what the exec raised
            os._exit(0)  # the replay's: this process's replay is over (worker.py)

        return module_function(replayed_exec, original)


def _exec_shown(path, args, env: tuple) -> tuple:
    try:
        arguments = [os.fsdecode(argument) for argument in args]
    except Exception:  # not a list of paths: the real call raises for it
        arguments = None
    shown = (os.fsdecode(path) if isinstance(path, (str, bytes)) else path, arguments)
    return (*shown, shown_environment(env[0])) if env else shown
