"""Run something on a module right after its first import: the pieces of a meta path
finder that the boundary patcher and the pytest markers share.

A finder subclasses `AfterImportFinder`, finds the real spec with `find_spec_elsewhere`
(every other finder but ours, so that two of ours never call each other) and wraps its
loader in `AfterImportLoader`.
"""
from __future__ import annotations

import sys


class AfterImportFinder:
    """Base of our post-import finders (see `find_spec_elsewhere`)."""

    def find_spec(self, fullname, path=None, target=None):
        raise NotImplementedError


class _OursFirst(list):
    """``sys.meta_path`` once one of our finders is on it: a finder that another inserts at
    the front goes after ours, which would otherwise never see those imports. pytest's
    assertion rewriter does that, and loads every module of a plugin's distribution:
    anyio's, so its cancel scopes went unpatched under pytest.

    A program that inserts at the front takes its finder off the front again
    (``sys.meta_path.pop(0)``, as pyfakefs does after each test): a removal by an index that
    names one of ours takes the first of the program's instead, or ours were gone and the
    program's dead finder stayed in place, to fail every later import."""

    __slots__ = ()

    def _ours(self) -> int:
        ours = 0
        while ours < len(self) and isinstance(self[ours], AfterImportFinder):
            ours += 1
        return ours

    def _past_ours(self, index):
        if isinstance(index, int) and 0 <= index:
            ours = self._ours()
            if index < ours < len(self):
                return ours
        return index

    def insert(self, index, finder) -> None:
        if not isinstance(finder, AfterImportFinder) and index >= 0:
            index = max(index, self._ours())
        list.insert(self, index, finder)

    def pop(self, index=-1):
        return list.pop(self, self._past_ours(index))

    def __delitem__(self, index) -> None:
        list.__delitem__(self, self._past_ours(index))


_OursFirst.__module__, _OursFirst.__name__, _OursFirst.__qualname__ = "builtins", "list", "list"


def put_first(finder: AfterImportFinder) -> None:
    """Put ``finder`` at the front of ``sys.meta_path``, and keep ours there."""
    if type(sys.meta_path) is list:
        sys.meta_path = _OursFirst(sys.meta_path)
    sys.meta_path.insert(0, finder)


def find_spec_elsewhere(fullname, path, target):
    """The spec the import system would find without our finders."""
    for finder in sys.meta_path:
        if isinstance(finder, AfterImportFinder):
            continue
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        spec = find(fullname, path, target)
        if spec is not None:
            return spec
    return None


def wrap_loader(spec, then) -> None:
    """Have ``then(module)`` run right after the spec's module is executed."""
    if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
        spec.loader = AfterImportLoader(spec.loader, then)


class AfterImportLoader:
    """A loader that runs the real loader, then ``then(module)``: what our finders put on a spec."""

    def __init__(self, loader, then) -> None:
        self._loader = loader
        self._then = then

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        # The spec must show the real loader to anyone who looks later.
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self._loader
        try:
            module.__loader__ = self._loader
        except AttributeError:
            pass
        self._then(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)
