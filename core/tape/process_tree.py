"""The process tree of a recording: which process started which, how, and at which event.

Built from the tapes alone (each header names its parent and how it was started; the
parent's tape holds the call that started it), by the root at exit for ``index.json``
and by readers of a recording that was never packed.
"""
from __future__ import annotations

import os

from retrace_core.tape import format
from retrace_core.tape.errors import RecordingError

# The reader (and the dataclasses and typing it needs) only for reading tapes: the
# recorder asks tape_pids at the end of every recording.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from retrace_core.tape.outline import Outline


def tape_pids(names) -> set[int]:
    """The pids of the tapes among these member names."""
    found = set()
    for name in names:
        stem = name[: -len(format.TAPE_SUFFIX)]
        if name.endswith(format.TAPE_SUFFIX) and stem.isdigit():
            found.add(int(stem))
    return found


def read_tapes(tape_dir: str) -> dict[int, Outline]:
    """The outline of every readable tape in a tape directory, by pid (one tape read at
    a time, its events skipped: outline.py)."""
    from retrace_core.tape.outline import outline_tape

    outlines = {}
    for pid in sorted(tape_pids(os.listdir(tape_dir))):
        name = f"{pid}{format.TAPE_SUFFIX}"
        try:
            with open(os.path.join(tape_dir, name), "rb") as handle:
                outlines[pid] = outline_tape(handle.read(), name)
        except (OSError, RecordingError):
            continue
    return outlines


def process_entry(header: dict, outline: Outline | None) -> dict:
    """One process of ``index.json``'s ``processes`` (see docs/file-format.md)."""
    end = (outline.exit if outline is not None else None) or {}
    return {"pid": header.get("pid"), "parent": header.get("parent"),
            "started": header.get("started") or ("root" if header.get("parent") is None else "exec"),
            "parent_event": None, "argv": header.get("argv"), "program": header.get("program"),
            "exit_status": end.get("exit_status"), "complete": outline is not None and outline.complete,
            "failed_tests": end.get("failed_tests", []), "became": outline.became if outline is not None else None}


def process_tree(outlines: dict[int, Outline], root_pid: int | None = None) -> list[dict]:
    """The processes of these tapes in tree order (see :func:`in_tree_order`), each with
    the event of its parent's tape that started it."""
    entries = [process_entry(outline.process, outline) for outline in outlines.values()]
    for entry in entries:
        parent = outlines.get(entry["parent"])
        if parent is not None:
            entry["parent_event"] = parent.started.get(entry["pid"])
    return [entry for _depth, entry in in_tree_order(entries, root_pid)]


def in_tree_order(processes: list[dict], root_pid: int | None = None) -> list[tuple[int, dict]]:
    """(depth, process) depth-first: the root first, each process right after its parent
    and its earlier-started siblings; processes whose parent is not recorded start trees
    of their own, after the root's."""
    pids = {process["pid"] for process in processes}
    children: dict[int | None, list[dict]] = {}
    for process in processes:
        parent = process.get("parent") if process.get("parent") in pids else None
        children.setdefault(parent, []).append(process)
    for siblings in children.values():
        siblings.sort(key=lambda p: (p["pid"] != root_pid, p.get("parent_event") is None,
                                     p.get("parent_event") or 0, p["pid"]))
    ordered: list[tuple[int, dict]] = []
    seen: set[int] = set()

    def walk(process: dict, depth: int) -> None:
        if process["pid"] in seen:
            return
        seen.add(process["pid"])
        ordered.append((depth, process))
        for child in children.get(process["pid"], []):
            walk(child, depth + 1)

    for top in children.get(None, []):
        walk(top, 0)
    for process in processes:  # a cycle of reused pids: never lose a process
        walk(process, 0)
    return ordered


def failing_process(processes: list[dict]) -> int | None:
    """The process in which the first failed test ran (``processes`` in tree order, so
    the root's own failures come first): where a debugger opens. None without one."""
    for process in processes:
        if process.get("failed_tests"):
            return process["pid"]
    return None


def describe_process(process: dict) -> tuple[str, str, str]:
    """A process as `pids` and the process picker show it: how it was started (and at
    which event of its parent), how it ended, and its command."""
    import shlex

    started = process.get("started") or "?"
    if process.get("parent_event") is not None:
        started += f" at event {process['parent_event']}"
    status = process.get("exit_status")
    if process.get("became"):
        ending = "became " + shlex.join(process["became"])
    elif status is None:
        ending = "incomplete"
    else:
        ending = f"exit {status}" if process.get("complete", True) else f"exit {status}, incomplete"
    failed = len(process.get("failed_tests") or [])
    if failed:
        ending += f", {failed} failed test" + ("s" if failed > 1 else "")
    return started, ending, shlex.join(process.get("program") or process.get("argv") or [])
