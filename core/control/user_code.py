"""Which code is the user's: the rule behind "just my code".

Program code (`trace/scope.py`) is everything whose lines count as positions, pytest
and pluggy included: a position must be the same in every replay. The *user's* code is
narrower: the code of the project under test, which is what a person debugging a
failure wants to see and step through. The debugger folds the other frames of the
stack into one line and steps over them.

The rule, in `UserCode.is_users`, decided from what the recording knows:

1. Code without a file (``<string>``: a dataclass's ``__init__``; ``<frozen ...>``) is
   not the user's: there is nothing to show or step through.
2. A file inside an installed-packages folder (``site-packages``, ``dist-packages``) or
   a virtual environment's folders (``.venv``, ``venv``, ``.tox``, ``.nox``) is not the
   user's, wherever it lies: that is pytest, pluggy and every other dependency. The one
   exception is the project under test installed there: a package whose name is also a
   package folder of the project (``ROOT/NAME`` or ``ROOT/src/NAME``).
3. Else a file is the user's when it lies under the project root (the recorded working
   folder), under a test path given on the command line (``pytest ../other/tests``), or
   is the program itself (``python ../tool.py``).
4. Everything else (the standard library, even under a root of ``/``) is not.
"""
from __future__ import annotations

import os


def _folder(path: str) -> str:
    return os.path.join(os.path.normpath(path), "")


STANDARD_LIBRARY = _folder(os.path.dirname(os.__file__))
LIBRARY_FOLDERS = frozenset({"site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox", "__pypackages__"})


class UserCode:
    """The rule for one recorded process; ``is_users(filename)`` is cached per file."""

    def __init__(self, root: str, argv: list[str] | None = None, project_packages: set[str] | None = None) -> None:
        """``root``: the recorded working folder; ``argv``: the recorded command line
        after ``python`` (``-m pytest tests -q``, ``tool.py --fast``), from which the test
        paths and the program file are taken; ``project_packages``: names of the project's own packages
        (default: found in ``root`` and ``root/src`` when that folder exists here)."""
        self.root = _folder(root)
        self.roots = [self.root]
        self.files: set[str] = set()
        arguments = iter(argv or [])
        for argument in arguments:
            if argument in ("-m", "-c"):  # a module's name or code, not a path
                next(arguments, None)
                continue
            if not isinstance(argument, str) or argument.startswith("-"):
                continue
            path = os.path.normpath(os.path.join(root, argument.split("::")[0]))  # pytest's FILE::TEST
            if path.endswith(".py"):
                self.files.add(path)
            else:  # a folder of tests, or an argument that is no path (which then matches nothing)
                self.roots.append(_folder(path))
        self.packages = project_packages if project_packages is not None else _packages_in(root)
        self._cache: dict[str, bool] = {}

    @classmethod
    def from_header(cls, header: dict) -> UserCode:
        """The rule for a process, from its tape header: ``program`` is the command line
        after ``python`` (``-m pytest tests -q``)."""
        return cls(header.get("cwd") or "/", list(header.get("program") or []))

    def is_users(self, filename: str | None) -> bool:
        if not filename:
            return False
        known = self._cache.get(filename)
        if known is None:
            known = self._cache[filename] = self._decide(filename)
        return known

    def _decide(self, filename: str) -> bool:
        if filename.startswith("<"):
            return False
        path = os.path.normpath(filename)
        parts = path.split(os.sep)
        for index in range(len(parts) - 1, -1, -1):  # the innermost: .venv/lib/.../site-packages/NAME
            if parts[index] in LIBRARY_FOLDERS:
                # site-packages/NAME/...: the project under test, installed
                below = parts[index + 1:]
                return parts[index] in ("site-packages", "dist-packages") and len(below) > 1 \
                    and below[0] in self.packages
        if path.startswith(STANDARD_LIBRARY):  # even when the project root is "/"
            return False
        return path in self.files or any(path.startswith(root) for root in self.roots)


def _packages_in(root: str) -> set[str]:
    """The package folders (with an ``__init__.py``) directly in ``root`` and ``root/src``."""
    found = set()
    for folder in (root, os.path.join(root, "src")):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found.update(name for name in names if os.path.isfile(os.path.join(folder, name, "__init__.py")))
    return found
