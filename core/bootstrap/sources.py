"""What the recording keeps of the code that ran: project sources and installed versions.

Modules from the user's project (anything outside the standard library and
site-packages) are stored as text, so a recording made in CI replays, and shows, the
code as it was. For everything else the recording keeps the installed distributions'
versions.
"""
from __future__ import annotations

import json
import os
import sys
import sysconfig

from retrace_core.tape import format

# The interpreter's own sha256: hashlib would load OpenSSL first, 3.5 ms at the end of
# every recorded process (3.12 renamed the module).
try:
    from _sha2 import sha256 as _sha256
except ImportError:
    try:
        from _sha256 import sha256 as _sha256
    except ImportError:
        from hashlib import sha256 as _sha256

_OUR_PACKAGES = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep
    for path in (__import__("retrace_core").__file__,))


def _library_roots() -> tuple[str, ...]:
    roots = set()
    for scheme_path in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(scheme_path)
        if path:
            roots.add(os.path.realpath(path) + os.sep)
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        roots.add(os.path.realpath(os.path.join(prefix, "lib")) + os.sep)
    return tuple(roots)


def _real_path(path: str, real_folders: dict[str, str]) -> str:
    """``os.path.realpath(path)`` for a file, resolving each folder once: a pytest run
    has hundreds of modules in a few dozen folders, and realpath checks every part of
    every path (10 ms at the end of every recorded process)."""
    folder, name = os.path.split(path)
    real_folder = real_folders.get(folder)
    if real_folder is None:
        real_folder = real_folders[folder] = os.path.realpath(folder)
    joined = os.path.join(real_folder, name)
    return os.path.realpath(joined) if os.path.islink(joined) else joined


def is_project_file(path: str, library_roots: tuple[str, ...], real_folders: dict[str, str]) -> bool:
    real = _real_path(path, real_folders)
    if "site-packages" in real.split(os.sep) or "dist-packages" in real.split(os.sep):
        return False
    if real.startswith(_OUR_PACKAGES) or real.startswith(library_roots):
        return False
    return real.endswith(".py") and os.path.isfile(real)


def project_modules(modules: dict) -> dict[str, str]:
    """{absolute path: module name} of the project modules imported so far."""
    roots = _library_roots()
    real_folders: dict[str, str] = {}
    found = {}
    for name, module in list(modules.items()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and is_project_file(path, roots, real_folders):
            spec = getattr(module, "__spec__", None)
            if name == "__main__" and spec is not None:
                name = spec.name  # `python -m pkg.cli`: replay imports it by that name
            found[os.path.abspath(path)] = name
    return found


def installed_distributions() -> dict[str, str]:
    """{distribution name: version}, read from the ``*.dist-info`` folder names."""
    versions = {}
    for entry in sys.path:
        if not entry or not os.path.isdir(entry) or not entry.endswith(("site-packages", "dist-packages")):
            continue
        for name in os.listdir(entry):
            if name.endswith(".dist-info"):
                distribution, _, version = name[: -len(".dist-info")].partition("-")
                versions.setdefault(distribution, version)
    return versions


def source_member(path: str) -> str:
    """The member name under which a source file is stored."""
    return f"{format.SOURCES_DIR}/files/{os.path.abspath(path).lstrip(os.sep)}"


def _store(tape_dir: str, path: str, data: bytes, digest: str, pid: int) -> str:
    """Store one source text; the member it is stored under. That is the path's own
    (:func:`source_member`) unless another process of the run stored another text under
    it first (a test that writes a script, runs it, writes other code into it and runs it
    again: execnet's), and then the path's with the text's sha256 after an ``@``. The
    first text is never replaced: each process's manifest names the text it ran."""
    member = source_member(path)
    target = os.path.join(tape_dir, member)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = f"{target}.{pid}.partial"
    with open(partial, "wb") as handle:
        handle.write(data)
    try:
        try:
            os.link(partial, target)  # atomic, and never over another process's text
            return member
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not os.path.exists(target):
                os.replace(partial, target)
                return member
        try:
            with open(target, "rb") as handle:
                if handle.read() == data:
                    return member
        except OSError:
            pass
        member = f"{member}@{digest}"
        os.replace(partial, os.path.join(tape_dir, member))
        return member
    finally:
        if os.path.lexists(partial):
            os.unlink(partial)


def store_sources(tape_dir: str, pid: int) -> None:
    """Write this process's project sources and its manifest into the tape directory."""
    manifest = {"modules": {}, "distributions": installed_distributions()}
    for path, module_name in sorted(project_modules(sys.modules).items()):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        digest = _sha256(data).hexdigest()
        manifest["modules"][path] = {"module": module_name, "sha256": digest,
                                     "member": _store(tape_dir, path, data, digest, pid)}
    target = os.path.join(tape_dir, format.SOURCES_DIR, f"manifest.{pid}.json")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
