"""The packages of retrace_core import each other in one direction only: the layering
written down here and in docs/architecture.md ("Layers").

Each module's imports (at module level and inside functions) are read with ``ast``; an
import of a higher layer fails the test unless it is one of the few listed below with
its reason. A new upward import is a cycle in the making: move the code to the layer it
belongs to, or add it here with the reason it cannot move.
"""
from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"

# Lowest first. A package may import its own layer and those below it.
LAYERS = [
    {"ours", "_engine", "__init__"},  # names, the compiled C engine, the package's version
    {"trace"},  # the tracers: count lines, stop where asked
    # The recorded process's runtime: the boundary writes the tape and the tape writer
    # takes the boundary's guard; a fork or subprocess wrapper starts a recorded child,
    # which is the bootstrap's work; the bootstrap patches the boundary; the pytest
    # plugin's import hook is the bootstrap's. One layer, by design.
    {"tape", "boundary", "bootstrap", "pytest"},
    {"replay"},  # a worker that answers the boundary from the tape
    {"control"},  # the time-travel engine and the controller's session
]

# Upward imports that are the design, each with its reason: (importing module, package).
ALLOWED_UPWARD = {
    # launch.py is the main of recorded and replayed processes alike; it imports the
    # replay worker and the engine only once it knows it replays.
    ("bootstrap/launch.py", "replay"): "the replay's start",
    ("bootstrap/launch.py", "control"): "an engine replay's start (control/engine_replay.py)",
    # preload() imports every module either mode will use, before the program.
    ("bootstrap/preload.py", "replay"): "preloaded in both modes",
    ("bootstrap/preload.py", "control"): "preloaded in both modes",
    # A forked process in a replay dies with the replay: control's rule for workers.
    ("boundary/forks.py", "control"): "control/lifetime.py's die_with_parent",
    # The engine's tracer hides from sys.gettrace with the boundary's identity copier.
    ("trace/unseen.py", "boundary"): "wrappers.copy_identity",
    # A replay gives the program the recorded thread idents; the tracer keys threads by
    # the real ones, as the engine that asks it does.
    ("trace/pytracer.py", "boundary"): "thread_idents.real_get_ident",
}


def _layer(package: str) -> int:
    for number, layer in enumerate(LAYERS):
        if package in layer:
            return number
    raise AssertionError(f"retrace_core.{package} is in no layer of tests/unit/test_layers.py: add it")


def _imported_packages(path: Path) -> set[str]:
    """The retrace_core packages (or top-level modules) that ``path`` imports anywhere."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "retrace_core":
                found |= {parts[1]} if len(parts) > 1 else {_root_name(alias.name) for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names
                      if alias.name.startswith("retrace_core.")}
    return found


def _root_name(name: str) -> str:
    """``from retrace_core import NAME``: a package or module of core, else a name of __init__."""
    is_module = (CORE / name).is_dir() or any(CORE.glob(f"{name}.*"))
    return name if is_module else "__init__"


def _package_of(path: Path) -> str:
    relative = path.relative_to(CORE).parts
    return relative[0] if len(relative) > 1 else relative[0].removesuffix(".py")


def test_every_package_of_core_is_in_a_layer():
    packages = {_package_of(path) for path in CORE.rglob("*.py")}
    for package in packages:
        _layer(package)


def test_no_package_of_core_imports_a_higher_layer():
    upward = []
    for path in sorted(CORE.rglob("*.py")):
        package = _package_of(path)
        module = "/".join(path.relative_to(CORE).parts)
        for imported in _imported_packages(path) - {package}:
            if _layer(imported) > _layer(package) and (module, imported) not in ALLOWED_UPWARD:
                upward.append(f"core/{module} imports retrace_core.{imported}")
    assert upward == [], "imports of a higher layer (see the layers in tests/unit/test_layers.py):\n" + \
        "\n".join(upward)


def test_the_allowed_upward_imports_are_still_made():
    """An allowance that is no longer used goes, so the list stays the truth."""
    unused = [f"core/{module} -> {package}" for module, package in ALLOWED_UPWARD
              if package not in _imported_packages(CORE / module)]
    assert unused == []
