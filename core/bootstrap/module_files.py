"""Our modules' files out of the program's sight, recorded and replayed.

A program that looks through ``sys.modules`` for files finds ours too. pytest, to show a
failing test's source, asks ``inspect.getmodule``, which resolves the file of every module
loaded (``os.path.realpath``: an ``lstat`` per folder of each path); those calls are the
program's and go on the tape, a set of them per module of ours. A replay by a version of
ours that loads one module more or one less makes other calls and diverges: a recording
of a 5,000-test suite made an hour before a module was added diverged at its failure.

So from the program's first line, in both modes, our package's modules have no
``__file__`` and such a scan passes them over (the package itself keeps its own: one
module, whatever the version). Our code takes the paths it needs at import. The
recording's header says so; older recordings replay with the files in sight.
"""
from __future__ import annotations

import sys

HEADER_KEY = "module_files_hidden"
_PREFIX = "retrace_core."


def hide() -> None:
    """Right before the program's first line (bootstrap/launch.py)."""
    for name, module in list(sys.modules.items()):
        if name.startswith(_PREFIX) and module is not None:
            module.__dict__.pop("__file__", None)
