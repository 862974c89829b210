"""The recorded process's main: ``python [options] launch.py PROGRAM...``.

PROGRAM is what followed the options on the user's command line (``-m pkg args``,
``-c code args``, ``script.py args``). This module starts the recorder, makes
``sys.argv``, ``sys.path[0]`` and ``__main__`` what ``python PROGRAM`` would have made
them, runs the program, and exits with the status python would have exited with.
Tracebacks are printed without this module's frames.
"""
from __future__ import annotations

import os
import sys

# retrace_core's names (ENGINE_SOCKET, LAUNCHING, RECORDING, ROOT_PID, STARTED, TRACER)
# are imported by main(), inside _our_packages_on_the_path(): launch.py runs
# as a script, and a child Python may have dropped the folder retrace_core is installed in
# from its path (pip's isolated builds do) before this module runs.


def _exit_status(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:
        pass
    return 1


def _main_module(file: str | None):
    import types

    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = __builtins__
    if file is not None:
        module.__file__ = file
        module.__cached__ = None
    sys.modules["__main__"] = module
    return module


def _run_script(path: str, arguments: list[str], recorded_source=None) -> None:
    import runpy

    from retrace_core.boundary.guard import bypass  # preloaded: the same guard the wrappers use

    sys.argv = [path, *arguments]
    path = os.path.abspath(path)  # as python does since 3.9: __file__ and tracebacks show it
    with bypass():  # finding and reading the script is python's work, not the program's
        if not sys.flags.safe_path:
            sys.path.insert(0, os.path.dirname(os.path.realpath(path)))
        runs_as_archive = os.path.isdir(path) or not path.endswith(".py") and _is_zip(path)
        if not runs_as_archive:
            code = _compile_script(path, recorded_source(path) if recorded_source else None)
    if runs_as_archive:
        _as_outermost(runpy.run_path, path, run_name="__main__")
        return
    module = _main_module(path)
    from importlib.machinery import SourceFileLoader

    module.__loader__ = SourceFileLoader("__main__", path)
    module.__spec__ = None
    _as_outermost(exec, code, module.__dict__)


def _compile_script(path: str, source: bytes | None = None):
    import io

    if source is None:
        with io.open_code(path) as handle:
            source = handle.read()
    return compile(source, path, "exec", dont_inherit=True)


def _is_zip(path: str) -> bool:
    import zipfile

    return zipfile.is_zipfile(path)


def _run_module(name: str, arguments: list[str]) -> None:
    import runpy

    sys.argv = [name, *arguments]
    if not sys.flags.safe_path:
        sys.path.insert(0, os.getcwd())
    _as_outermost(runpy._run_module_as_main, name, alter_argv=True)


def _run_code(code: str, arguments: list[str]) -> None:
    sys.argv = ["-c", *arguments]
    if not sys.flags.safe_path:
        sys.path.insert(0, "")
    module = _main_module(None)
    module.__loader__ = __import__("importlib.machinery").machinery.BuiltinImporter
    module.__spec__ = None
    _as_outermost(exec, compile(code, "<string>", "exec", dont_inherit=True), module.__dict__)


def _as_outermost(function, *arguments, **keywords) -> None:
    """``function(*arguments, **keywords)``, the program, with no frame of ours under its
    frames: the outermost frame of its stack is the program's (runpy's for ``-m``), as in
    a plain run (coverage's ``run`` looks at it to decide ``sys.path[0]``). See
    csrc/outermost.c. ``function`` is a built-in or the program's own: a partial, not a
    lambda, whose frame would be the outermost."""
    import functools

    from retrace_core import _engine  # preloaded

    call, raised = functools.partial(function, *arguments, **keywords), []
    cast = _engine.ffi.cast
    if _engine.lib.rt_call_as_outermost(cast("void *", id(call)), cast("void *", id(raised))) != 0:
        if not raised:
            raise SystemError("the program raised an exception that could not be kept")
        exception = raised.pop()
        raise exception


def run_program(program: list[str], recorded_source=None, passthrough: tuple = (), on_uncaught=None) -> int:
    """Run PROGRAM as python would; returns python's exit status.

    ``recorded_source(path)`` gives a script's text in replay; exceptions of the types in
    ``passthrough`` (a replay divergence) are not the program's and propagate.
    ``on_uncaught(exc)`` sees the program's uncaught exception before its traceback is
    printed (the engine finds the failure from its frames).
    """
    try:
        if program[0] == "-m":
            _run_module(program[1], program[2:])
        elif program[0] == "-c":
            _run_code(program[1], program[2:])
        else:
            _run_script(program[0], program[1:], recorded_source)
    except SystemExit as exc:
        return _exit_status(exc)
    except passthrough:
        raise
    except BaseException as exc:
        if on_uncaught is not None:
            on_uncaught(exc)
        _print_traceback(exc)
        if isinstance(exc, KeyboardInterrupt):
            return -2  # the caller re-raises SIGINT after finishing the recording
        return 1
    return 0


def _print_traceback(exc: BaseException) -> None:
    """Print an uncaught exception as python would: without retrace's own frames."""
    from retrace_core.boundary.tracebacks import drop_our_frames  # preloaded by main()

    drop_our_frames(exc)
    try:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    except Exception:
        pass


def start_replay():
    """``launch.py --replay``: the same start as recording, answered from the tape.
    Returns (program, its recorded source, the exceptions that are not the program's, how
    the replay ends: ``end(status, divergence)``, who is told of an uncaught exception;
    control/engine_replay.py under the engine). main() runs the program itself, as it
    does recording, so the frames under the program's are the same in both runs: a
    program that walks its stack (``inspect.stack()`` stats every frame's file) makes
    the same calls."""
    from retrace_core.bootstrap import module_files, stable_hashes
    from retrace_core.replay import worker as replay_worker
    from retrace_core.replay.divergence import Divergence

    worker = replay_worker.from_environment()
    engine_socket = os.environ.get(ENGINE_SOCKET)  # read now: prepare() restores the recorded env
    tracer_kind = os.environ.get(TRACER, "c")
    program = worker.header["program"]
    if not engine_socket:  # (the engine does the same when it starts)
        from retrace_core.control.lifetime import die_with_parent

        die_with_parent()  # a `replay` or `verify` that is stopped stops its replay too
    worker.prepare()
    del sys.argv[0]
    _as_python_saw_it(worker.header.get("executable", sys.executable), worker.header.get("interpreter_options", []),
                      program)
    hashes = worker.header.get(stable_hashes.HEADER_KEY, False)
    hashes_per_thread = worker.header.get(stable_hashes.PER_THREAD_KEY, False)
    hidden = worker.header.get(module_files.HEADER_KEY, False)
    if engine_socket:
        from retrace_core.control.engine_replay import EngineReplay

        replay = EngineReplay(worker, engine_socket, tracer_kind)
        _program_begins(hashes, hashes_per_thread, hidden)
        return program, worker.script_source, (Divergence,), replay.end, replay.program_raised

    def end(status: int | None, divergence) -> None:
        if divergence is not None:
            worker.diverged(divergence)
        if worker.player.divergence is not None:  # the program swallowed it; it still ends the replay
            worker.diverged(worker.player.divergence)
        if status == -2:
            status = 130  # recorded as 130: the recorded process then killed itself with SIGINT
        worker.exit_status = status
        sys.exit(status)

    _program_begins(hashes, hashes_per_thread, hidden)
    return program, worker.script_source, (Divergence,), end, None


def _program_begins(stable: bool, per_thread: bool, hide_module_files: bool) -> None:
    """What both modes do right before the program's first line, as the recording did."""
    from retrace_core.bootstrap import module_files, stable_hashes

    if hide_module_files:
        module_files.hide()
    if stable:
        stable_hashes.begin(per_thread)


class _our_packages_on_the_path:
    """Our packages and what they import, whatever the program did to ``sys.path`` first.

    A child Python may start with a ``sitecustomize`` that drops site-packages from its
    path (pip's isolated build environments do): launch.py then could not import
    retrace_core and the child failed where it ran unrecorded. The folder our package is
    installed in is on the path while preload() imports everything we use, and is taken
    off again, so the program's path is the one it made."""

    def __enter__(self) -> None:
        self.added: list[str] = []
        try:
            import msgpack  # noqa: F401  (one of what we use: they are installed together)

            import retrace_core  # noqa: F401
        except ImportError:
            import site

            # .../site-packages/retrace_core/bootstrap/launch.py, and the interpreter's own
            # site-packages (an editable install's source tree is found without them).
            ours = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            for folder in [ours, *getattr(site, "getsitepackages", list)()]:
                if folder not in sys.path and folder not in self.added:
                    self.added.append(folder)
            sys.path.extend(self.added)

    def __exit__(self, *exc: object) -> None:
        for folder in self.added:
            if folder in sys.path:
                sys.path.remove(folder)


def main() -> None:
    global ENGINE_SOCKET, LAUNCHING, RECORDING, ROOT_PID, STARTED, TRACER
    if not sys.flags.safe_path and sys.path and os.path.samefile(sys.path[0], os.path.dirname(__file__)):
        del sys.path[0]  # python put this folder there for launch.py; the program's goes in its place
    with _our_packages_on_the_path():
        from retrace_core.bootstrap.preload import preload
        from retrace_core.ours import ENGINE_SOCKET, LAUNCHING, RECORDING, ROOT_PID, STARTED, TRACER

        preload()  # first, and the same in both modes: see preload.py
    os.environ.pop(LAUNCHING, None)
    program, source, passthrough, end, on_uncaught = start_replay() if sys.argv[1:2] == ["--replay"] else start_recording()
    # One line runs the program in both modes: the frames under the program's frame are
    # the same recorded and replayed, down to their line numbers.
    from retrace_core.boundary.guard import guard  # (before the program: a module, no Python call)

    try:
        status, divergence = run_program(program, source, passthrough, on_uncaught), None
    except passthrough as caught:
        # The replay diverged: the program is over. What of it is still called while we
        # report (a C trace function it set, coverage's, sees our calls too and looks a
        # changed sys.path up on disk) runs its boundary calls for real, or the divergence
        # would be raised again, out of the report. A store, not a call: a call would be
        # that tracer's next event.
        guard.busy = True
        status, divergence = None, caught
    end(status, divergence)


def _as_python_saw_it(executable: str, options: list[str], program: list[str]) -> None:
    """``sys.orig_argv`` as ``python [options] PROGRAM`` makes it, without launch.py:
    werkzeug's reloader starts its server again with ``[sys.executable, *sys.orig_argv[1:]]``."""
    sys.orig_argv = [executable, *options, *program]


def start_recording():
    """Start the recorder; returns what main() runs, as start_replay() does."""
    program = sys.argv[1:]
    if program[:1] == ["--"]:
        program = program[1:]
    from retrace_core.bootstrap.recorder import Recorder

    started = os.environ.pop(STARTED, None)
    root = os.environ.get(ROOT_PID) in (None, "", str(os.getpid()))
    os.environ[ROOT_PID] = os.environ.get(ROOT_PID) or str(os.getpid())
    recording = os.path.abspath(os.environ[RECORDING])
    os.environ[RECORDING] = recording
    from retrace_core.bootstrap.cmdline import split_python_arguments

    options = split_python_arguments(list(sys.orig_argv[1:]))[0]
    recorder = Recorder(recording, root, program, options, started, int(os.environ[ROOT_PID]))
    del sys.argv[0]  # the program never sees launch.py
    _as_python_saw_it(sys.executable, options, program)
    if not recorder.start():  # a child starting after its recording was packed: run unrecorded
        return program, None, (), lambda status, divergence: sys.exit(status), None

    def end(status: int, divergence: None) -> None:
        if status == -2:
            recorder.exit_status = 130
            recorder.finish(130)
            import signal

            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        recorder.exit_status = status
        sys.exit(status)

    _program_begins(recorder.stable_hashes, True, True)
    return program, None, (), end, None


if __name__ == "__main__":
    main()
