"""What a failing ``assert`` computed, and the program's sources as they were recorded.

At a failure the session stands on the failing line before it runs, so the values the
line computed are not yet among the locals (pytest's assertion rewriting keeps them in
``@py_assert`` temporaries only while the line runs). The sides of the assertion are
taken from the recorded source of the line (``left == right``: both sides; any other
test: its value) and evaluated in a throw-away fork of the stopped worker, which
replays the same boundary events the line did: the values are the ones the line
computed, and nothing the evaluation does reaches the replay.
"""
from __future__ import annotations

import linecache
import os

from retrace_core.control.workers import EngineError


def recorded_sources(session) -> dict[str, bytes]:
    """{path: source bytes} of the project files the recording stored (cached)."""
    cached = getattr(session, "_recorded_sources", None)
    if cached is None:
        from retrace_core.replay.sources import kit_sources
        from retrace_core.tape.recording import Recording

        with Recording(session.recording) as opened:
            cached = {path: source for path, (_module, source) in kit_sources(opened, session.pid).items()}
        session._recorded_sources = cached
    return cached


def source_text(session, file: str) -> str | None:
    """The file as recorded, else as it is on this disk (a file the recording did not keep)."""
    recorded = recorded_sources(session).get(file)
    if recorded is not None:
        return recorded.decode("utf-8", "replace")
    lines = linecache.getlines(file)
    return "".join(lines) if lines else None


def resolve_file(session, file: str) -> str:
    """The recorded path ``file`` names: itself, its absolute path, or the one recorded
    path it is a suffix of (``inventory.py`` for ``suite/inventory.py``). Several
    matches: an EngineError that lists them."""
    known = set(recorded_sources(session))
    if file in known:
        return file
    absolute = os.path.abspath(file)
    if absolute in known:
        return absolute
    tail = os.sep + file.lstrip(os.sep)
    matches = sorted(path for path in known if path.endswith(tail))
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise EngineError(f"{file} matches several recorded files: {', '.join(matches)}")
    return absolute if os.path.exists(file) else file


def assertion_sides(session, frame: dict, frame_index: int = 0) -> list[dict]:
    """Locals-like entries for the sides of the ``assert`` at ``frame``'s line (empty
    when that line is no assert): named ``assert left: EXPR`` and ``assert right: EXPR``."""
    import ast

    source = source_text(session, frame["file"])
    if source is None:
        return []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    statement = next((node for node in ast.walk(tree)
                      if isinstance(node, ast.Assert) and node.lineno == frame["line"]), None)
    if statement is None:
        return []
    test = statement.test
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        sides = [("left", test.left), ("right", test.comparators[0])]
    else:
        sides = [("value", test)]
    found = []
    for side, node in sides:
        expression = ast.unparse(node)
        try:
            value = session.evaluate(expression, frame_index)
        except EngineError as exc:
            value = {"type": "error", "repr": str(exc)}
        found.append({"name": f"assert {side}: {expression}", "type": value["type"],
                      "repr": value["repr"][:200], "expandable": False, "derived": True})
    return found
