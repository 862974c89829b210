"""Which code is program code: the code whose lines are positions.

A position must be the same in every replay, and worth stopping at. The standard
library and frozen modules are neither: import machinery runs more or fewer lines
depending on what was imported before (the engine's own work included), and nobody
steps through `importlib._bootstrap` to find a bug. So program code is every file except
our own packages, the libraries they run on, the standard library and frozen modules;
installed third-party packages (site-packages) are program code even where they live
inside the standard library's folder.

A rule is (prefix, kind); the longest prefix that matches a file name decides, and a
file no rule matches is program code. Code that our own code calls is not program code
either, whatever its file: see `prefix_rules`.
"""
from __future__ import annotations

import os
import sys

from retrace_core.ours import HIDDEN_FOLDER, PACKAGE_FOLDER, PROGRAM_RUNNERS

FROZEN = "<frozen "
IMPORT_HOOKS = ("_distutils_hack" + os.sep, "__editable__")


LIBRARY, PROGRAM, OURS = 0, 1, 2  # what a code object is, by its file


def prefix_rules(excluded: tuple[str, ...], included: tuple[str, ...] = (),
                 ours: tuple[str, ...] = ()) -> tuple[tuple[str, int], ...]:
    """(prefix, kind) rules, longest prefix first. ``excluded``: library code (not
    program code); ``included``: program code; ``ours``: the debugger's own code, which
    is not program code, and neither is whatever it calls (lines run on retrace's
    behalf, such as a namedtuple's generated ``__new__``, are not the program's)."""
    for prefix in (*excluded, *included, *ours):
        if not isinstance(prefix, str):
            raise TypeError("prefixes must be strings")
    rules = [(prefix, LIBRARY) for prefix in excluded] + [(prefix, PROGRAM) for prefix in included] + \
        [(prefix, OURS) for prefix in ours]
    return tuple(sorted(rules, key=lambda rule: -len(rule[0])))


def kind_of(filename: str, rules: tuple[tuple[str, int], ...]) -> int:
    for prefix, kind in rules:
        if filename.startswith(prefix):
            return kind
    return PROGRAM


def is_program(filename: str, rules: tuple[tuple[str, int], ...]) -> bool:
    return kind_of(filename, rules) == PROGRAM


def _folder_of(path: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(path)), "")


def engine_scope() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(excluded, included, ours) prefixes for the replay engine, in this interpreter.

    Runs in a replay worker after patching: no file access here (no sysconfig, no
    realpath), only names of modules already imported and sys.path. Paths are spelled as
    imported, which is how code objects carry them."""
    package = PACKAGE_FOLDER
    # launch.py starts the program, engine_replay.py runs its exit handlers: they call
    # program code without that code being run on our behalf (ours.PROGRAM_RUNNERS).
    excluded = {FROZEN, _folder_of(os.__file__),  # the standard library: where os came from
                *PROGRAM_RUNNERS}
    ours = {package, HIDDEN_FOLDER}
    for name in ("retrace_tui", "msgpack", "lz4", "cffi"):  # ours, and what ours runs on
        module = sys.modules.get(name)
        if getattr(module, "__file__", None):
            ours.add(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(module.__file__))), name, ""))
    included = {os.path.join(os.path.abspath(folder), "") for folder in sys.path
                if folder and os.path.basename(folder.rstrip(os.sep)) in ("site-packages", "dist-packages")}
    # Import hooks that setuptools installs there run on every import, and so on our
    # engine's lazy imports too: not program code.
    excluded |= {folder + hook for folder in included for hook in IMPORT_HOOKS}
    return tuple(sorted(excluded)), tuple(sorted(included)), tuple(sorted(ours))
