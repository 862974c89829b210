"""Applies the boundary table: now for modules already imported, on import for the rest.

The same table is applied in both modes. Recording, a call runs and its result goes to
the tape (a TapeWriter); replaying, the call is answered by a TapePlayer. An entry with
a ``special`` names a class with ``record(entry, original, tape)`` and
``replay(entry, original, player)`` factories.

Module attributes are replaced with ``setattr``. Attributes of built-in (immutable)
types, such as ``datetime.datetime.now``, are written through the C engine.
"""
from __future__ import annotations

import builtins
import copy
import importlib
import sys

from retrace_core import _engine
from retrace_core.bootstrap.after_import import AfterImportFinder, find_spec_elsewhere, put_first, wrap_loader
from retrace_core.boundary import table as boundary_table
from retrace_core.boundary.wrappers import module_function, recording_function, replaying_function

_BUILTIN_FUNCTION = type(len)

# Imported for annotations only, never at run time: these modules load in every recorded
# and replayed process, before the program, and import nothing they can avoid.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_SPECIAL_PACKAGE = "retrace_core.boundary."


RECORD = "record"
REPLAY = "replay"


class Patcher:
    """Owns the patches of one recorded or replayed process."""

    def __init__(self, channel, mode: str = RECORD, entries=boundary_table.TABLE) -> None:
        self.channel = channel  # the TapeWriter when recording, the TapePlayer when replaying
        self.mode = mode
        self._pending: dict[str, list[boundary_table.Entry]] = {}
        for entry in entries:
            self._pending.setdefault(entry.module, []).append(entry)
        # The entries applied, by module: applied again to a new module of the same name. A
        # program that takes a module out of sys.modules and imports it again gets a new one
        # (blessed's tests do it with fcntl and termios): unpatched, its calls went untaped.
        self._applied: dict[str, list] = {}
        self._made: dict[int, object] = {}  # our replacements, by id (kept: ids are not reused)
        self._finder = _PostImportFinder(self)

    def install(self) -> None:
        for module_name in list(self._pending):
            module = sys.modules.get(module_name)
            if module is not None:
                self._patch_module(module_name, module)
        put_first(self._finder)

    def wants(self, module_name: str) -> bool:
        return module_name in self._pending or module_name in self._applied

    def _patch_module(self, module_name: str, module) -> None:
        entries = self._pending.pop(module_name, None)
        if entries is None:
            entries = self._applied.get(module_name, ())  # imported again
        else:
            self._applied.setdefault(module_name, []).extend(entries)
        for entry in entries:
            self._apply(entry, module)

    def _apply(self, entry, module) -> None:
        if isinstance(entry, _AliasEntry):
            _replace_alias(module, entry.name, entry.original, entry.replacement)
            return
        owner, attribute = _owner_of(module, entry.name)
        if owner is None:
            return
        if not hasattr(owner, attribute) and entry.kind != boundary_table.SHARED:
            if owner is not module or not hasattr(builtins, attribute):
                return  # not on this platform or version
            # A built-in as one module calls it (its ``id``): a global of that module now
            # shadows it there alone.
            original = getattr(builtins, attribute)
        else:
            # A class's own descriptor (a classmethod stays one); an inherited method is looked up.
            original = owner.__dict__.get(attribute) if isinstance(owner, type) else None
            if original is None:
                original = getattr(owner, attribute, None)
        deprecated = _deprecated_value(original)
        if deprecated is not None:
            original = deprecated.value
        if id(original) in self._made:
            return  # ours already: a module imported again kept it (a reload keeps what it does not set)
        replacement = self._wrapper_for(entry, original, owner)
        self._made[id(replacement)] = replacement
        if deprecated is not None:  # the program still gets its warning, then our stand-in
            deprecated = copy.copy(deprecated)
            deprecated.value = replacement
        set_attribute(owner, attribute, replacement if deprecated is None else deprecated)
        _keep_capabilities(original, replacement)
        if owner is module:
            _findable_by_pickle(replacement, original, entry.module, attribute)
        for alias in entry.aliases:
            alias_module, _, alias_attribute = alias.partition(":")
            target = sys.modules.get(alias_module)
            if target is not None:
                _replace_alias(target, alias_attribute, original, replacement)
            else:
                self._pending.setdefault(alias_module, []).append(
                    _AliasEntry(alias_module, alias_attribute, original, replacement))
                if self._finder not in sys.meta_path:
                    put_first(self._finder)

    def _wrapper_for(self, entry, original, owner) -> object:
        if entry.special:
            module_name, _, class_name = entry.special.rpartition(".")
            special = getattr(importlib.import_module(_SPECIAL_PACKAGE + module_name), class_name)
            factory: Callable | None = getattr(special, self.mode, None)
            if factory is None and not isinstance(special, type) and self.mode == RECORD:
                factory = special  # a record-only factory function
            if factory is None:
                raise NotImplementedError(f"{entry.qualified_name} has no {self.mode} wrapper")
            return factory(entry, original, self.channel)
        if self.mode == RECORD:
            wrapper = recording_function(original, self.channel, entry.qualified_name, entry.arguments, entry.leaf)
        else:
            wrapper = replaying_function(original, self.channel, entry.qualified_name, entry.arguments)
        return module_function(wrapper, original)


def _findable_by_pickle(replacement, original, module_name: str, attribute: str) -> None:
    """pickle stores a built-in function as its ``__module__`` and name, and refuses when
    that module holds another object under the name. ``os.getpid`` is ``posix.getpid``, and
    ``posix`` stays unpatched (our own code calls it for real), as does ``_io`` (``open``'s
    module from 3.12 on: the import system reads files through it): so
    ``pool.apply(os.getpid)`` raised PicklingError when recorded. Such a stand-in names the
    module that holds it (``os``, ``io``), where pickle finds it: it pickles, and a recorded
    child unpickles the child's own stand-in. Its ``__module__`` reads ``os`` for ``posix``."""
    if type(original) is not _BUILTIN_FUNCTION:
        return  # pickled otherwise (a class, a method), or not at all
    home = sys.modules.get(getattr(original, "__module__", None) or "")
    if home is None or getattr(home, attribute, None) is not replacement:
        try:
            replacement.__module__ = module_name  # a built-in stand-in, or a non_binding one
        except (AttributeError, TypeError):
            pass


def _owner_of(module, path: str) -> tuple[object, str]:
    """What holds the last part of a dotted attribute path in ``module``, and that part."""
    owner_path, _, attribute = path.rpartition(".")
    owner = module
    for part in filter(None, owner_path.split(".")):
        owner = getattr(owner, part, None)
    return owner, attribute


def _replace_alias(module, path: str, original, replacement) -> None:
    """A copy taken at import, as a module attribute or a class's (``glob._StringGlobber.scandir``
    from 3.13 on), becomes the replacement if it still is the original."""
    owner, attribute = _owner_of(module, path)
    if owner is not None and getattr(owner, attribute, None) is original:
        setattr(owner, attribute, replacement)


class _AliasEntry:
    """A copy of a patched function that another module took at its import."""

    def __init__(self, module: str, attribute: str, original, replacement) -> None:
        self.module, self.name = module, attribute
        self.original, self.replacement = original, replacement


_CAPABILITY_SETS = ("supports_dir_fd", "supports_fd", "supports_follow_symlinks", "supports_effective_ids",
                    "supports_bytes_environ")


def _keep_capabilities(original, replacement) -> None:
    """``os.unlink in os.supports_dir_fd`` must stay true of the wrapper: shutil and
    others choose their code path by it."""
    import os

    for name in _CAPABILITY_SETS:
        capabilities = getattr(os, name, None)
        if isinstance(capabilities, set) and original in capabilities:
            capabilities.add(replacement)


def set_attribute(owner, attribute: str, value) -> None:
    try:
        setattr(owner, attribute, value)
    except (TypeError, AttributeError):
        if _engine.lib.rt_type_set_attribute(
                _engine.ffi.cast("void *", id(owner)), attribute.encode(),
                _engine.ffi.cast("void *", id(value))) != 0:
            raise RuntimeError(f"cannot patch {owner.__name__}.{attribute}") from None


class _PostImportFinder(AfterImportFinder):
    """Patches a table module right after it is imported (again, when it was taken out of
    sys.modules)."""

    def __init__(self, patcher: Patcher) -> None:
        self._patcher = patcher

    def find_spec(self, fullname, path=None, target=None):
        if not self._patcher.wants(fullname):
            return None
        spec = find_spec_elsewhere(fullname, path, target)
        wrap_loader(spec, lambda module: self._patcher._patch_module(module.__spec__.name, module))
        return spec


def _deprecated_value(value: object):
    """cryptography's deprecated module attributes (``dh.generate_parameters`` since 50): the
    module holds a ``_DeprecatedValue`` that a wrapper module resolves, with a warning, on
    each access. The callable is its ``value``; the holder is kept, so the warning stays."""
    if type(value).__name__ == "_DeprecatedValue" and callable(getattr(value, "value", None)):
        return value
    return None
