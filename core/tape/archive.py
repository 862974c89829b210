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
from retrace_core.tape.archive_main import safe_target as safe_member_target
from retrace_core.tape.errors import RecordingError
from retrace_core.tape.frames import whole_frames

SHEBANG = b"#!/usr/bin/env python3\n"
_MAIN_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "archive_main.py")


def pack(tape_dir: str, output: str, still_written: set[str] = frozenset()) -> None:
    """Write ``output`` from ``tape_dir`` atomically, mode 755, then remove the directory.
    The tapes named in ``still_written`` (of processes still running) are packed up to
    their last complete frame."""
    partial = output + ".partial"
    with open(partial, "wb") as handle:
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
                    with open(path, "rb") as tape:
                        archive.writestr(zipfile.ZipInfo(name, _now()), whole_frames(tape.read()), method)
                else:
                    archive.write(path, name, method)
    os.chmod(partial, 0o755)
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


def extract(recording: str, destination: str) -> None:
    """Write the archive's members into ``destination``; refuse escaping names."""
    try:
        archive = zipfile.ZipFile(recording)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RecordingError(f"{recording}: not a retrace recording ({exc})") from None
    with archive:
        members = [info for info in archive.infolist() if info.filename != format.ARCHIVE_MAIN]
        for info in members:
            if safe_member_target(destination, info.filename) is None:
                raise RecordingError(
                    f"{recording}: refusing archive member outside the target folder: {info.filename}")
        os.makedirs(destination, exist_ok=True)
        for info in members:
            if info.is_dir():
                continue
            target = safe_member_target(destination, info.filename)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                with archive.open(info) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise RecordingError(f"{recording}: corrupt archive member {info.filename} ({exc})") from None
