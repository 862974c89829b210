"""The `__main__.py` of every packed recording: `./REC --extract` and `./REC --list-pids`.

Runs with the standard library alone, on a machine where retrace-tui is not installed,
so it must not import anything from retrace. It is stored in the archive as it is.
"""
import json
import os
import sys
import zipfile
import zlib


def _archive_path():
    return os.path.abspath(sys.argv[0])


# What one member may inflate to: a recorder never writes more, and a crafted file
# (a "zip bomb") must not fill the reader's memory or disk.
MAX_MEMBER_SIZE = 1 << 32
MAX_INDEX_SIZE = 64 << 20
MAX_RATIO = 200  # deflate's own limit is about 1000:1; index.json and sources stay far below 200
_S_IFMT, _S_IFLNK = 0o170000, 0o120000
# What reading a corrupt or crafted zip raises (zipfile lets zlib's own error through).
READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error)


class BadArchive(Exception):
    """A recording this file cannot read: one line for the user."""


def safe_target(root, member):
    """Where ``member`` goes below ``root``, or None when its name escapes ``root``."""
    name = member.replace("\\", "/")
    if not name or name.startswith("/") or "\0" in name or any(part == ".." for part in name.split("/")):
        return None
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, name))
    if os.path.commonpath([target, real_root]) != real_root or target == real_root:
        return None
    return target


def member_refusal(info, limit=MAX_MEMBER_SIZE):
    """Why this zip member is not read (None when it may be): too large once inflated,
    inflating far more than any recording does, encrypted, or a symbolic link."""
    if info.flag_bits & 0x1:
        return "refusing archive member %s: it is encrypted" % info.filename
    if (info.external_attr >> 16) & _S_IFMT == _S_IFLNK:
        return "refusing archive member %s: a symbolic link" % info.filename
    if info.file_size > limit:
        return "refusing archive member %s: %d bytes, more than a recording writes" % (
            info.filename, info.file_size)
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > MAX_RATIO * info.compress_size + (1 << 20):
        return "refusing archive member %s: it would inflate %d bytes to %d" % (
            info.filename, info.compress_size, info.file_size)
    return None


def _open_archive(archive):
    try:
        return zipfile.ZipFile(archive)
    except READ_ERRORS as exc:
        raise BadArchive("%s: not a retrace recording (%s)" % (archive, exc))


def extraction_plan(zf, destination):
    """[(info, target)] of the members to write below ``destination``; raises BadArchive,
    before anything is written, for a member that escapes it, is a link, is too large,
    or would go where another member is a file (or the same place twice)."""
    plan, files, folders = [], set(), set()
    for info in zf.infolist():
        if info.filename == "__main__.py" or info.filename.endswith("/"):
            continue
        target = safe_target(destination, info.filename)
        if target is None:
            raise BadArchive("refusing archive member outside the target folder: %s" % info.filename)
        refusal = member_refusal(info)
        if refusal:
            raise BadArchive(refusal)
        parents = set()
        parent = os.path.dirname(target)
        while parent not in parents and len(parent) > len(os.path.realpath(destination)):
            parents.add(parent)
            parent = os.path.dirname(parent)
        if target in files or target in folders or parents & files:
            raise BadArchive("refusing archive member %s: it clashes with another member" % info.filename)
        files.add(target)
        folders |= parents
        plan.append((info, target))
    return plan


def write_members(zf, plan, destination):
    """Write the planned members, owner-only (folders 0700, files 0600); on failure,
    remove ``destination`` if this call created it."""
    created = not os.path.exists(destination)
    try:
        os.makedirs(destination, mode=0o700, exist_ok=True)
        for info, target in plan:
            _make_folders(os.path.dirname(target))
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with zf.open(info) as source, os.fdopen(fd, "wb") as sink:
                while True:
                    chunk = source.read(1 << 20)
                    if not chunk:
                        break
                    sink.write(chunk)
    except READ_ERRORS as exc:
        if created:
            import shutil

            shutil.rmtree(destination, ignore_errors=True)
        name = getattr(exc, "filename", None) or ""
        raise BadArchive("corrupt archive member or unwritable folder %s(%s)" % (
            name + " " if name else "", exc))


def _make_folders(folder):
    """``folder`` and its missing parents, each 0700 (os.makedirs gives the parents 0777)."""
    if os.path.isdir(folder):
        return
    _make_folders(os.path.dirname(folder))
    os.mkdir(folder, 0o700)


def extract(archive, destination):
    try:
        with _open_archive(archive) as zf:
            write_members(zf, extraction_plan(zf, destination), destination)
    except BadArchive as exc:
        sys.stderr.write("%s\n" % exc)
        return 2
    print(destination)
    return 0


def list_pids(archive):
    try:
        with _open_archive(archive) as zf:
            try:
                info = zf.getinfo("index.json")
            except KeyError:
                raise BadArchive("%s: not a retrace recording (no index.json)" % archive)
            refusal = member_refusal(info, MAX_INDEX_SIZE)
            if refusal:
                raise BadArchive(refusal)
            try:
                index = json.loads(zf.read(info))
            except READ_ERRORS + (RecursionError,):
                raise BadArchive("%s: corrupt index.json" % archive)
    except BadArchive as exc:
        sys.stderr.write("%s\n" % exc)
        return 2
    processes = index.get("processes") if isinstance(index, dict) else None
    if not isinstance(processes, list) or not all(
            isinstance(p, dict) and type(p.get("pid")) is int for p in processes):
        sys.stderr.write("%s: not a retrace recording (bad index.json)\n" % archive)
        return 2
    for process in processes:
        print(process["pid"])
    return 0


def _tape_dir(archive):
    """run.retrace -> run.d (retrace_core.tape.format.tape_dir_for, which this file cannot import)."""
    stem = archive[:-len(".retrace")] if archive.endswith(".retrace") else archive
    return stem + ".d"


def main(argv):
    archive = _archive_path()
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: %s --extract [DIR] | --list-pids" % os.path.basename(archive))
        print("A retrace-tui recording. Look inside with: retrace-tui events %s" % os.path.basename(archive))
        return 0
    if argv[0] == "--extract":
        return extract(archive, argv[1] if len(argv) > 1 else _tape_dir(archive))
    if argv[0] in ("--list-pids", "--list_pids"):
        return list_pids(archive)
    sys.stderr.write("unknown option %s (use --extract or --list-pids)\n" % argv[0])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
