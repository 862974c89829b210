"""The rules of CONTRIBUTING.md that a machine can check: modules stay under 450 lines, and
every module, and every public class of the product, says why it exists.

A failure names the files; split the module along a seam it has, or write the docstring.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("core", "retrace_tui")
MAX_LINES = 450


def _modules(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py")
                  if "__pycache__" not in path.parts)


def test_every_module_is_at_most_450_lines():
    too_long = {str(path.relative_to(ROOT)): lines for path in _modules(*PRODUCT, "tests")
                if (lines := len(path.read_text().splitlines())) > MAX_LINES}
    assert too_long == {}


def test_every_module_and_public_class_has_a_docstring():
    missing = []
    for path in _modules(*PRODUCT):
        tree = ast.parse(path.read_text())
        name = str(path.relative_to(ROOT))
        if tree.body and path.name != "__init__.py" and ast.get_docstring(tree) is None:
            missing.append(name)
        missing += [f"{name}: {node.name}" for node in tree.body
                    if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
                    and ast.get_docstring(node) is None]
    assert missing == []
