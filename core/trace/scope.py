"""Which code is program code: the code whose lines are positions.

A position must be the same in every replay, and worth stopping at. The standard
library and frozen modules are neither: import machinery runs more or fewer lines
depending on what was imported before (the engine's own work included), and nobody
steps through `importlib._bootstrap` to find a bug. So program code is every file except
our own packages, the libraries they run on, the standard library and frozen modules;
installed third-party packages (site-packages) are program code even where they live
inside the standard library's folder.

A rule is (prefix, is_program); the longest prefix that matches a file name decides,
and a file no rule matches is program code.
"""
from __future__ import annotations

import os
import sys

FROZEN = "<frozen "
IMPORT_HOOKS = ("_distutils_hack" + os.sep, "__editable__")


def prefix_rules(excluded: tuple[str, ...], included: tuple[str, ...] = ()) -> tuple[tuple[str, bool], ...]:
    for prefix in (*excluded, *included):
        if not isinstance(prefix, str):
            raise TypeError("prefixes must be strings")
    rules = [(prefix, False) for prefix in excluded] + [(prefix, True) for prefix in included]
    return tuple(sorted(rules, key=lambda rule: -len(rule[0])))


def is_program(filename: str, rules: tuple[tuple[str, bool], ...]) -> bool:
    for prefix, program in rules:
        if filename.startswith(prefix):
            return program
    return True


def _folder_of(path: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(path)), "")


def engine_scope() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(excluded, included) prefixes for the replay engine, in this interpreter.

    Runs in a replay worker after patching: no file access here (no sysconfig, no
    realpath), only names of modules already imported and sys.path. Paths are spelled as
    imported, which is how code objects carry them."""
    excluded = {FROZEN, _folder_of(os.__file__),  # the standard library: where os came from
                os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "")}  # ours
    for name in ("retrace_tui", "msgpack", "lz4", "cffi"):  # ours, and what ours runs on
        module = sys.modules.get(name)
        if getattr(module, "__file__", None):
            excluded.add(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(module.__file__))), name, ""))
    included = {os.path.join(os.path.abspath(folder), "") for folder in sys.path
                if folder and os.path.basename(folder.rstrip(os.sep)) in ("site-packages", "dist-packages")}
    # Import hooks that setuptools installs there run on every import, and so on our
    # engine's lazy imports too: not program code.
    excluded |= {folder + hook for folder in included for hook in IMPORT_HOOKS}
    return tuple(sorted(excluded)), tuple(sorted(included))
