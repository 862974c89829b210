"""The `__main__.py` of every packed recording: `./REC --extract` and `./REC --list-pids`.

Runs with the standard library alone, on a machine where retrace-tui is not installed,
so it must not import anything from retrace. It is stored in the archive as it is.
"""
import json
import os
import sys
import zipfile


def _archive_path():
    return os.path.abspath(sys.argv[0])


def safe_target(root, member):
    """Where ``member`` goes below ``root``, or None when its name escapes ``root``."""
    name = member.replace("\\", "/")
    if name.startswith("/") or any(part == ".." for part in name.split("/")):
        return None
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, name))
    if os.path.commonpath([target, real_root]) != real_root:
        return None
    return target


def extract(archive, destination):
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if info.filename == "__main__.py":
                continue
            target = safe_target(destination, info.filename)
            if target is None:
                sys.stderr.write("refusing archive member outside the target folder: %s\n" % info.filename)
                return 2
        os.makedirs(destination, exist_ok=True)
        for info in zf.infolist():
            if info.filename == "__main__.py" or info.is_dir():
                continue
            target = safe_target(destination, info.filename)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with zf.open(info) as source, open(target, "wb") as sink:
                sink.write(source.read())
    print(destination)
    return 0


def list_pids(archive):
    with zipfile.ZipFile(archive) as zf:
        index = json.loads(zf.read("index.json"))
    for process in index.get("processes", []):
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
