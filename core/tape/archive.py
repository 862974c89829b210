"""Packing a tape directory into a `.retrace` file and extracting it again.

The file is a zip behind a ``#!/usr/bin/env python3`` line, like a zipapp: zipfile
reads it as it is, and its ``__main__.py`` (archive_main.py) extracts it and lists its
processes with the standard library alone.
"""
from __future__ import annotations

import os
import shutil
import zipfile

from retrace_core.tape import format
from retrace_core.tape.archive_main import READ_ERRORS, BadArchive, extraction_plan, write_members
from retrace_core.tape.errors import RecordingError
from retrace_core.tape.frames import whole_frames

SHEBANG = b"#!/usr/bin/env python3\n"
OWNER_ONLY = 0o700  # the packed file; the umask can only narrow it
MEMBER_MODE = 0o100600  # a regular file, the owner's: what an unzip tool restores
_MAIN_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "archive_main.py")


def pack(tape_dir: str, output: str, still_written: set[str] = frozenset()) -> None:
    """Write ``output`` from ``tape_dir`` atomically, then remove the directory. The file
    is the owner's alone (0700 at most, narrowed by the umask): it holds what the program
    read. The tapes named in ``still_written`` (of processes still running) are packed up
    to their last complete frame."""
    partial = output + ".partial"
    try:
        os.unlink(partial)  # a stale one: O_EXCL below must create the file, with our mode
    except FileNotFoundError:
        pass
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, OWNER_ONLY)
    with os.fdopen(fd, "wb") as handle:
        handle.write(SHEBANG)
        with zipfile.ZipFile(handle, "w") as archive:
            archive.write(_MAIN_SOURCE, format.ARCHIVE_MAIN, zipfile.ZIP_DEFLATED)
            for path in _files_below(tape_dir):
                name = os.path.relpath(path, tape_dir).replace(os.sep, "/")
                if name.endswith(".partial"):
                    continue  # a source another process is still writing
                # Tapes are lz4 already; deflating them again buys nothing.
                method = zipfile.ZIP_STORED if name.endswith(format.TAPE_SUFFIX) else zipfile.ZIP_DEFLATED
                if name in still_written:
                    info = zipfile.ZipInfo(name, _now())
                    info.external_attr = MEMBER_MODE << 16
                    with open(path, "rb") as tape:
                        archive.writestr(info, whole_frames(tape.read()), method)
                else:
                    info = zipfile.ZipInfo.from_file(path, name)
                    info.external_attr = MEMBER_MODE << 16
                    info.compress_type = method
                    with open(path, "rb") as source, archive.open(info, "w") as sink:
                        shutil.copyfileobj(source, sink, 1 << 20)
    os.replace(partial, output)
    shutil.rmtree(tape_dir, ignore_errors=True)


def _now() -> tuple:
    import time

    return time.localtime()[:6]


def _files_below(folder: str) -> list[str]:
    found = []
    for root, _dirs, files in os.walk(folder):
        found.extend(os.path.join(root, name) for name in files)
    return sorted(found)


def extract(recording: str, destination: str, only: set[str] | None = None) -> None:
    """Write the archive's members into ``destination`` (folders 0700, files 0600);
    refuse, before writing anything, names that escape it, links, members that clash
    and members that inflate beyond any recording. ``only``: the names of the members to
    write (every member is checked all the same)."""
    try:
        archive = zipfile.ZipFile(recording)
    except READ_ERRORS as exc:
        raise RecordingError(f"{recording}: not a retrace recording ({exc})") from None
    with archive:
        try:
            plan = extraction_plan(archive, destination)
            if only is not None:
                plan = [(info, target) for info, target in plan if info.filename in only]
            write_members(archive, plan, destination)
        except BadArchive as exc:
            raise RecordingError(f"{recording}: {exc}") from None
