"""What every recorded and every replayed process imports before the program runs.

Two things must be the same in the recorded and the replayed process, or programs that
look at them behave differently:

- which modules were imported before the boundary was patched: such a module keeps
  the real functions it captured at import (``shutil`` decides then whether ``os.open``
  takes ``dir_fd``; ``tokenize`` keeps its own ``open``), while one imported later by
  the program captures the wrappers;
- ``sys.modules`` itself, in order: ``inspect.getmodule`` and pytest's failure reports
  walk it and stat every module's file.

So both modes first import the same list (:func:`preload`): all of our modules for
either mode, and what they need. After that our code imports nothing new while the
program runs. Each process header lists the modules it had (``preloaded``), so a
replay can say when the two differ.
"""
import sys


def preload() -> None:
    import importlib.machinery  # noqa: F401

    import retrace_core.bootstrap.cmdline  # noqa: F401
    import retrace_core.bootstrap.recorder  # noqa: F401
    import retrace_core.boundary.clocks  # noqa: F401
    import retrace_core.boundary.directories  # noqa: F401
    import retrace_core.boundary.files  # noqa: F401
    import retrace_core.boundary.gc_guard  # noqa: F401
    import retrace_core.boundary.output  # noqa: F401
    import retrace_core.boundary.randomness  # noqa: F401
    import retrace_core.control.engine  # noqa: F401
    import retrace_core.control.engine_replay  # noqa: F401
    import retrace_core.replay.worker  # noqa: F401
    import retrace_core.trace.ctracer  # noqa: F401
    from retrace_core.boundary import table

    for special in sorted({entry.special.rpartition(".")[0] for entry in table.TABLE if entry.special}):
        __import__(f"retrace_core.boundary.{special}")
    from retrace_core import _engine  # noqa: F401  (patches built-in types)
    from retrace_core.bootstrap.hidden_code import hide_our_code

    hide_our_code()  # last: every function of ours is there to rename
    from retrace_core.bootstrap import program_tracers

    program_tracers.install()


def loaded_modules() -> list[str]:
    """The imported modules, in import order."""
    return list(sys.modules)
