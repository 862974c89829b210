"""Recorded sources: project modules are imported from the recording, not the disk.

A recording made in CI replays on a checkout that has moved on. The controller
(:func:`notices`) says once what differs on this machine; the worker serves the
recorded text through :class:`RecordedSourceFinder`.
"""
from __future__ import annotations

import importlib.machinery
import os
import sys

from retrace_core.boundary import written_code
from retrace_core.boundary.guard import bypass
from retrace_core.tape import format
from retrace_core.tape.errors import RecordingError


def manifest_name(pid: int) -> str:
    return f"{format.SOURCES_DIR}/manifest.{pid}.json"


def read_manifest(recording, pid: int) -> dict | None:
    """The sources manifest of one process ({modules: {path: {module, member, sha256}},
    distributions}), or None without one; a malformed one is a RecordingError."""
    import json

    name = manifest_name(pid)
    if name not in recording.names():
        return None
    try:
        manifest = json.loads(recording.read(name))
    except (ValueError, RecursionError):
        raise RecordingError(f"{recording.path}: corrupt {name}") from None
    modules = manifest.get("modules") if isinstance(manifest, dict) else None
    if not isinstance(modules, dict) or not all(
            isinstance(entry, dict) and all(isinstance(entry.get(key), str) for key in ("module", "member", "sha256"))
            for entry in modules.values()) or not isinstance(manifest.get("distributions", {}), dict):
        raise RecordingError(f"{recording.path}: corrupt {name}")
    return manifest


def kit_sources(recording, pid: int) -> dict[str, list]:
    """{path: [module name, source bytes]} of one process, for the replay worker. Each
    text is checked against the manifest's sha256: a recording edited after it was made
    (a changed source would replay other code than was recorded) is refused."""
    import hashlib

    manifest = read_manifest(recording, pid)
    if manifest is None:
        return {}
    sources = {}
    for path, entry in manifest["modules"].items():
        source = recording.read(entry["member"])
        if hashlib.sha256(source).hexdigest() != entry["sha256"]:
            raise RecordingError(f"{recording.path}: the stored source of {path} does not match its "
                                 f"sha256 in the manifest; the recording was altered")
        sources[path] = [entry["module"], source]
    return sources


class RecordedSources:
    """The project sources of one recorded process, as :func:`kit_sources` gave them."""

    def __init__(self, sources: dict[str, list]) -> None:
        self._text = {path: source for path, (_module, source) in sources.items()}
        self._by_module = {module: path for path, (module, _source) in sources.items()}

    def source(self, path: str) -> bytes | None:
        return self._text.get(os.path.abspath(path))

    def path_of_module(self, name: str) -> str | None:
        return self._by_module.get(name)


def notices(recording, pid: int) -> list[str]:
    """What differs between the recording and this machine: changed or missing project
    files, and installed distributions of other versions."""
    import hashlib

    from retrace_core.bootstrap.sources import installed_distributions

    manifest = read_manifest(recording, pid)
    if manifest is None:
        return []
    found = []
    for path, entry in sorted(manifest.get("modules", {}).items()):
        try:
            with open(path, "rb") as handle:
                on_disk = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            found.append(f"{path} is not on this machine; replaying the recorded source")
            continue
        if on_disk != entry["sha256"]:
            found.append(f"{path} differs from the recorded source; replaying the recorded one")
    here = installed_distributions()
    for distribution, version in sorted(manifest.get("distributions", {}).items()):
        if distribution in here and here[distribution] != version:
            found.append(f"{distribution} is {here[distribution]} here but was {version} when recorded")
    return found


class RecordedSourceFinder:
    """A meta path finder that serves project modules from the recording."""

    def __init__(self, sources: RecordedSources) -> None:
        self._sources = sources

    def find_spec(self, fullname, path=None, target=None):
        recorded_path = self._sources.path_of_module(fullname)
        if recorded_path is None or fullname == "__main__":
            return None
        if not _on_search_path(recorded_path, path):
            return None  # the real finders would not find it there either
        if written_code.was_written(recorded_path):
            return None  # code the program wrote: importlib finds it as recorded, from the tape
        loader = RecordedSourceLoader(fullname, recorded_path, self._sources.source(recorded_path))
        is_package = os.path.basename(recorded_path) == "__init__.py"
        spec = importlib.machinery.ModuleSpec(fullname, loader, origin=recorded_path, is_package=is_package)
        spec.has_location = True
        if is_package:
            spec.submodule_search_locations = [os.path.dirname(recorded_path)]
        return spec


def _on_search_path(recorded_path: str, path) -> bool:
    """Would the real path finders have found this module where it was recorded?"""
    directory = os.path.dirname(recorded_path)
    if os.path.basename(recorded_path) == "__init__.py":
        directory = os.path.dirname(directory)
    with bypass():  # abspath of a relative entry reads the cwd: our work, not the program's
        entries = path if path is not None else sys.path
        return any(isinstance(e, str) and os.path.abspath(e or ".") == directory for e in entries)


class RecordedSourceLoader(importlib.machinery.SourceFileLoader):
    """Loads one module from its recorded text; never reads or writes bytecode."""

    def __init__(self, fullname: str, path: str, source: bytes) -> None:
        super().__init__(fullname, path)
        self._source = source

    def get_data(self, path):
        if os.path.abspath(path) == os.path.abspath(self.path):
            return self._source
        return super().get_data(path)

    def get_code(self, fullname):
        return compile(self._source, self.path, "exec", dont_inherit=True)


def install(sources: RecordedSources) -> None:
    """Where the path finder is, just before it: the finders before it (setuptools'
    ``_distutils_hack``) are asked as they were when recorded; a program's tracer
    (coverage) saw the code of each, and looked its file up, at the first import."""
    position = next((index for index, finder in enumerate(sys.meta_path)
                     if finder is importlib.machinery.PathFinder), len(sys.meta_path))
    sys.meta_path.insert(position, RecordedSourceFinder(sources))
