"""Our code, out of sight of the program's own tracer.

A recorded or replayed process runs our code beside the program's: a recording wrapper
and the tape writer when recorded, the same wrapper and the player when replayed. A
tracer the program installs (coverage, under ``pytest --cov``) sees every frame, ours
included, and coverage looks up the file of each code it has not seen before: ``realpath``,
an ``lstat`` per folder, all boundary calls. Recorded, it looked up the writer's file;
replayed, the player's, at other moments: the replay asked for ``lstat`` where the tape
had ``getcwd`` and diverged.

So once everything of ours is imported (bootstrap/preload.py), every function of ours
gets its code under a name in angle brackets (and every module of ours the engine
imports later is compiled under one) (``<retrace>/tape/writer.py``: see
``ours.hidden_name``), the name of code that comes from no file. Tracers leave such code
alone without touching the disk (coverage: "original file name is not real"), and the
tracebacks of our own faults still name the file and line. Every rule that knows our
code by its file name knows both spellings (``ours.OUR_PREFIXES``).
"""
from __future__ import annotations

import gc
import sys
import types
from importlib.machinery import PathFinder, SourceFileLoader
from os.path import join

from retrace_core.ours import PACKAGE_FOLDER, hidden_name


def _renamed(code: types.CodeType, done: dict[int, types.CodeType]) -> types.CodeType:
    """``code`` and the code nested in it (which later closures are made of), renamed."""
    # Keyed by identity: code objects compare equal across files when their bodies do.
    renamed = done.get(id(code))
    if renamed is None:
        consts = tuple(_renamed(const, done) if isinstance(const, types.CodeType) else const
                       for const in code.co_consts)
        renamed = code.replace(co_filename=hidden_name(code.co_filename), co_consts=consts)
        done[id(code)] = renamed
    return renamed


class _HiddenLoader(SourceFileLoader):
    """Loads a module of ours compiled under its hidden name (from its cached bytecode
    too: importlib gives that the file's name back)."""

    def get_code(self, fullname: str) -> types.CodeType:
        return _renamed(super().get_code(fullname), {})


class _HiddenFinder:
    """Finds our modules imported once the program runs (the engine imports some of its
    parts when first used) and loads them hidden."""

    @staticmethod
    def find_spec(name: str, path=None, target=None):
        if not name.startswith("retrace_core."):
            return None
        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and type(spec.loader) is SourceFileLoader:
            spec.loader = _HiddenLoader(spec.loader.name, spec.loader.path)
        return spec

    @staticmethod
    def invalidate_caches() -> None:
        pass


def private_copy(name: str) -> types.ModuleType:
    """A copy of the standard library's pure-Python module ``name`` that is ours: its code
    carries a file name in our package, so `hide_our_code` hides it with the rest.

    For what our code runs of the standard library while the program runs. The program's
    tracer sees the calls our code makes into the library, and a file new to it is one it
    looks up on disk: the recorder's collector reads bytecode with ``dis``, and under
    coverage the recording looked ``dis.py`` up (``lstat``s the replay, which does not run
    the collector, never made). A module that is ours is from no file, as the rest of ours.
    """
    spec = PathFinder.find_spec(name)  # (importlib.util is not imported: the program would see it)
    code = spec.loader.get_code(name)  # from its cached bytecode, as an import
    filename = join(PACKAGE_FOLDER, "stdlib", f"{name}.py")
    module = types.ModuleType(f"retrace_core.stdlib.{name}")
    module.__file__ = spec.origin
    exec(_relocated(code, filename, {}), module.__dict__)
    return module


def _relocated(code: types.CodeType, filename: str, done: dict[int, types.CodeType]) -> types.CodeType:
    moved = done.get(id(code))
    if moved is None:
        consts = tuple(_relocated(const, filename, done) if isinstance(const, types.CodeType) else const
                       for const in code.co_consts)
        moved = done[id(code)] = code.replace(co_filename=filename, co_consts=consts)
    return moved


def hide_our_code() -> int:
    """Rename the code of every function of ours alive now, and load the modules of
    ours imported from now on hidden. Returns how many functions were renamed."""
    done: dict[int, types.CodeType] = {}
    count = 0
    for thing in gc.get_objects():
        if type(thing) is types.FunctionType and thing.__code__.co_filename.startswith(PACKAGE_FOLDER):
            thing.__code__ = _renamed(thing.__code__, done)
            count += 1
    if not any(finder is _HiddenFinder for finder in sys.meta_path):
        sys.meta_path.insert(0, _HiddenFinder)
    return count
