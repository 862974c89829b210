"""Markers: named moments of the run (a test starts, a test ends) that are not boundary calls.

The recorder writes them into the tape; under the replay engine they are told to the
engine, which knows their positions. The same code runs in both modes, so the program
runs the same lines either way. A marker never raises into the program.

For pytest, `install` makes pytest load `retrace_core.pytest.plugin` as if it were one
of its own default plugins: no plugin for the user to add, and it still loads under
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1.
"""
from __future__ import annotations

import sys

from retrace_core.bootstrap.after_import import AfterImportFinder, find_spec_elsewhere, put_first, wrap_loader

PLUGIN = "retrace_core.pytest.plugin"
_sink = None  # (kind, data) -> None: the tape writer's, or the replay engine's


def mark(kind: str, data: dict) -> None:
    sink = _sink
    if sink is not None:
        try:
            sink(kind, data)
        except Exception:
            pass  # a marker is worth less than the program


def install(sink) -> None:
    """Send markers to ``sink``, and have pytest load our plugin when it starts."""
    global _sink
    _sink = sink
    config = sys.modules.get("_pytest.config")
    if config is not None:
        _add_plugin(config)
    else:
        put_first(_PytestConfigFinder())


def _add_plugin(config_module) -> None:
    plugins = getattr(config_module, "default_plugins", None)
    if isinstance(plugins, tuple) and PLUGIN not in plugins:
        config_module.default_plugins = (*plugins, PLUGIN)


class _PytestConfigFinder(AfterImportFinder):
    """Adds our plugin to `_pytest.config` right after it is imported."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "_pytest.config":
            return None
        spec = find_spec_elsewhere(fullname, path, target)
        wrap_loader(spec, _add_plugin)
        return spec
