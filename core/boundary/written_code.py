"""Code the program wrote and then imports: its bytes on the tape.

A program that writes a module and imports it (mako's ``module_directory=``, jinja2's
``compile_templates(zip=...)`` then ``ModuleLoader``) has importlib read the file with
``_io.open_code`` (``SourceFileLoader.get_data``, zipimport), which reads for real. In a
replay the program's writes are not performed, so the file is not there, the import fails,
and the replay goes another way.

So ``_io.open_code`` is a boundary call for the files the program wrote in this run, and
for the files beside a module it wrote: recorded, it reads the whole file and keeps its bytes; replayed,
it answers with them. So are importlib's ``_path_stat`` (``posix.stat``, which we leave
unpatched: the finders and zipimport ask whether a file is there before they read it) and
the listing ``FileFinder`` makes of a folder to know what it holds (``posix.listdir``:
jinja2's ``ModuleLoader`` imports from a folder ``compile_templates`` wrote). Which files
the program wrote is known the same way in both runs, from its own calls: ``open()`` that
can write (files.py notes each), ``os.open`` with a flag that creates or writes, and
``os.rename``/``os.replace`` of such a file (mako writes a module to a ``mkstemp`` file and
moves it into place). A folder that holds a written module (``.py``, ``.pyc``, an
extension) is a *written folder*: its own stat, its listing, its files and their ``__pycache__`` go on the tape too (importlib looks
for the bytecode next to the source; a folder kept from the recorded run would answer
otherwise). A folder the program made (``os.mkdir``: ``tempfile.mkdtemp``, pytest's ``tmp_path``) that
holds a written folder is one too, and so up to the first folder it did not make: the
folder on ``sys.path`` that holds a written package is looked at (its stat, its listing)
before the package, and a replay on another machine, or after the folder was removed,
found none and failed the import. A recorded child starts with its parent's written folders (children.py passes them,
the child's header keeps them for its replay): a test that writes a project and runs its
``setup.py`` in a child Python has the child's importlib and pkg_resources look at a folder that a
replay on another day does not have. The replay's finder of recorded sources (replay/sources.py) leaves written
files to importlib. Every other file (the standard library, site-packages, the project's
sources) is read for real, as before: their bytes do not go on the tape.
"""
from __future__ import annotations

import _frozen_importlib_external as _bootstrap_external
import io
import os
import posix
import sys

from retrace_core.boundary import working_folder
from retrace_core.boundary.guard import guard
from retrace_core.boundary.recorded_call import record
from retrace_core.boundary.wrappers import (
    Headers,
    copy_identity,
    module_function,
    non_binding,
    recording_function,
    replaying_function,
)

__tracebackhide__ = True

FUNCTION = "io.open_code"
STAT = "importlib._path_stat"
LISTING = "importlib.FileFinder._fill_cache"
_WRITING = frozenset("wax+")
_WRITING_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PYCACHE = "__pycache__"
_CASE_INSENSITIVE = getattr(_bootstrap_external, "_CASE_INSENSITIVE_PLATFORMS", ("win", "cygwin", "darwin"))
# A folder becomes a written folder when a module is written into it: a program that
# writes its data next to its script must not put importlib's every look there on the tape.
_MODULE_SUFFIXES = tuple(_bootstrap_external.SOURCE_SUFFIXES + _bootstrap_external.BYTECODE_SUFFIXES
                         + _bootstrap_external.EXTENSION_SUFFIXES)

# Absolute paths of the files the program wrote (as it named them), and their folders;
# the folders it made.
written: set[str] = set()
written_folders: set[str] = set()
made_folders: set[str] = set()


def _absolute(path: str) -> str:
    # The program's folder, not the replay's: a replay does not change folder.
    return path if os.path.isabs(path) else os.path.join(working_folder.current(), path)


def note_opened(file: object, mode: str) -> None:
    """files.py, after the program's ``open(file, mode)`` succeeded (in both runs)."""
    if _WRITING.isdisjoint(mode):
        return
    _note_written(file)


def _normal(path: object) -> str | None:
    try:
        return os.path.normpath(_absolute(os.fsdecode(path)))
    except (TypeError, ValueError):
        return None  # an fd: no name to import by


def _note_written(file: object) -> None:
    path = _normal(file)
    if path is not None:
        written.add(path)
        if path.endswith(_MODULE_SUFFIXES):
            _note_written_folder(os.path.dirname(path))


def _note_written_folder(folder: str) -> None:
    """``folder`` holds a written module: it is a written folder, and so is each folder
    above it that the program made."""
    while folder not in written_folders:
        written_folders.add(folder)
        folder = os.path.dirname(folder)
        if folder not in made_folders:
            return


def was_written(path: object) -> bool:
    """Is ``path`` a file the program wrote, a written folder, a file in one, or a file of
    a written folder's ``__pycache__`` (or its folder under ``sys.pycache_prefix``)?"""
    if not (written or written_folders) or guard.busy:  # (a recorded child inherits only folders)
        return False
    path = _normal(path)
    if path is None:
        return False
    if path in written or path in written_folders:
        return True
    folder = os.path.dirname(path)
    if os.path.basename(folder) == _PYCACHE:
        folder = os.path.dirname(folder)
    elif sys.pycache_prefix:
        folder = _source_folder(folder, sys.pycache_prefix)
    return folder in written_folders


def _source_folder(folder: str, pycache_prefix: str) -> str:
    """The folder of the sources whose bytecode importlib keeps in ``folder``, when that is
    under ``sys.pycache_prefix`` (``<prefix>/<the source folder's absolute path>``): a
    written module's bytecode goes there instead of beside it."""
    prefix = _normal(pycache_prefix)
    if prefix is None or not folder.startswith(prefix + os.sep):
        return folder
    return folder[len(prefix):]


def _read(original, path) -> bytes:
    with original(path) as handle:
        return handle.read()


def _recorded_for_written(name: str, run, give, stand_in=lambda wrapper: wrapper):
    """A table special for a call taped only when its path is a file the program wrote:
    recorded, ``run(original, path)`` runs it and the tape keeps the result; replayed, the
    tape answers. ``give(result)`` is what the program gets in both."""

    class Special:
        @staticmethod
        def record(entry, original, tape):
            headers = Headers(tape, name, True)

            def recorded(path):
                if not was_written(path):
                    return original(path)
                return give(record(headers, tape, lambda: run(original, path), (os.fsdecode(path),)))

            return stand_in(copy_identity(recorded, original))

        @staticmethod
        def replay(entry, original, player):
            def replayed(path):
                if not was_written(path):
                    return original(path)
                return give(player.answer(name, (os.fsdecode(path),)))

            return stand_in(copy_identity(replayed, original))

    return Special


# ``_io.open_code(path)``: a file object the import system reads code from (a built-in).
OpenCode = _recorded_for_written(FUNCTION, _read, io.BytesIO, non_binding)
# importlib's ``_path_stat(path)`` (``_frozen_importlib_external``; zipimport uses it).
PathStat = _recorded_for_written(STAT, lambda original, path: original(path), lambda result: result)


def finders_at_start() -> dict[str, list]:
    """What importlib's finders of written folders held when the program started (for the
    header): {path entry: [the folder's mtime as last looked at, its listing]}.

    A recorded child whose ``PYTHONPATH`` names a folder its parent wrote (werkzeug's
    reloader tests) had importlib look at that folder while it started, before anything
    was patched: a finder made, its listing read. A replay elsewhere, or later, finds no
    such folder there: importlib notes it as no folder (``None``), and the program's
    import of a module from it fails ("No module named ...") where the recorded import
    asked the tape. So the replay starts with the same finders (:func:`restore_finders`)."""
    finders = {}
    if not written_folders:  # every recorded process starts here: most have none
        return finders
    for entry, finder in list(sys.path_importer_cache.items()):
        if type(finder) is _bootstrap_external.FileFinder and _normal(entry) in written_folders:
            finders[entry] = [finder._path_mtime, sorted(finder._path_cache)]
    return finders


def restore_finders(finders: dict[str, list]) -> None:
    """In a replay, before the program: importlib's finders as :func:`finders_at_start`
    saw them when recorded (made here without looking at the disk)."""
    loaders = _bootstrap_external._get_supported_file_loaders()
    for entry, (mtime, listing) in finders.items():
        finder = _bootstrap_external.FileFinder(entry, *loaders)
        finder._path_mtime = mtime
        _fill_from(finder, listing)
        sys.path_importer_cache[entry] = finder


def _listing(folder: str) -> list[str]:
    """What ``FileFinder._fill_cache`` reads: the names in ``folder``, none if it is gone."""
    try:
        return posix.listdir(folder)
    except (FileNotFoundError, PermissionError, NotADirectoryError):
        return []


def _fill_from(finder, contents: list[str]) -> None:
    """``FileFinder._fill_cache``'s work on a listing (its case-insensitive part included)."""
    finder._path_cache = set(contents)
    if sys.platform.startswith(_CASE_INSENSITIVE):
        finder._relaxed_path_cache = {name.lower() for name in contents}


class FinderListing:
    """``FileFinder._fill_cache(finder)``: for a written folder, the listing is on the tape."""

    @staticmethod
    def record(entry, original, tape):
        headers = Headers(tape, LISTING, True)

        def recorded(finder):
            folder = finder.path or working_folder.current()
            if not was_written(folder):
                return original(finder)
            _fill_from(finder, record(headers, tape, lambda: _listing(folder), (folder,)))

        return copy_identity(recorded, original)

    @staticmethod
    def replay(entry, original, player):
        def replayed(finder):
            folder = finder.path or working_folder.current()
            if not was_written(folder):
                return original(finder)
            _fill_from(finder, player.answer(LISTING, (folder,)))

        return copy_identity(replayed, original)


def _noting(note):
    """A table special for a plain ``os`` call after which ``note(args, kwargs)`` learns
    what the program wrote (in both runs, once the call has returned)."""

    def then_note(wrapped):
        def call(*args, **kwargs):
            result = wrapped(*args, **kwargs)
            if not guard.busy:
                note(args, kwargs)
            return result

        return call

    class Special:
        @staticmethod
        def record(entry, original, tape):
            wrapped = recording_function(original, tape, entry.qualified_name, entry.arguments, entry.leaf)
            return module_function(then_note(wrapped), original)

        @staticmethod
        def replay(entry, original, player):
            wrapped = replaying_function(original, player, entry.qualified_name, entry.arguments)
            return module_function(then_note(wrapped), original)

    return Special


def _argument(args: tuple, kwargs: dict, index: int, name: str) -> object:
    return args[index] if len(args) > index else kwargs.get(name)


def _after_os_open(args: tuple, kwargs: dict) -> None:
    """``os.open(path, flags, mode=0o777, *, dir_fd=None)`` with a flag that writes."""
    if kwargs.get("dir_fd") is not None:
        return  # relative to a folder we do not know by name
    flags = _argument(args, kwargs, 1, "flags")
    if isinstance(flags, int) and flags & _WRITING_FLAGS:
        _note_written(_argument(args, kwargs, 0, "path"))


def _after_rename(args: tuple, kwargs: dict) -> None:
    """``os.rename(src, dst)`` / ``os.replace``: a written file moved keeps being written."""
    if kwargs.get("src_dir_fd") is not None or kwargs.get("dst_dir_fd") is not None:
        return
    source = _normal(_argument(args, kwargs, 0, "src"))
    if source is not None and source in written:
        written.discard(source)
        _note_written(_argument(args, kwargs, 1, "dst"))


def _after_mkdir(args: tuple, kwargs: dict) -> None:
    """``os.mkdir(path, mode=0o777, *, dir_fd=None)``: a folder the program made."""
    if kwargs.get("dir_fd") is not None:
        return
    folder = _normal(_argument(args, kwargs, 0, "path"))
    if folder is not None:
        made_folders.add(folder)


OsOpen = _noting(_after_os_open)
OsMkdir = _noting(_after_mkdir)
OsRename = _noting(_after_rename)
