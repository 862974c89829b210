"""Recording: read access to a `.retrace` file or its extracted tape directory.

Every command takes either form; a recording whose process was killed before packing
is read from its ``REC.d/`` directory up to the last flush.
"""
from __future__ import annotations

import json
import os
import zipfile
from functools import cached_property

from retrace_core.tape import format
from retrace_core.tape.archive_main import MAX_INDEX_SIZE, MAX_MEMBER_SIZE, READ_ERRORS, member_refusal
from retrace_core.tape.errors import RecordingError
from retrace_core.tape.process_tree import in_tree_order, process_entry
from retrace_core.tape.reader import Tape, read_header, read_tape


def valid_index(index: object) -> bool:
    """Has this ``index.json`` the shape readers rely on (a crafted one is refused)?"""
    if not isinstance(index, dict) or type(index.get("format_version")) is not int:
        return False
    processes = index.get("processes", [])
    return isinstance(processes, list) and all(_valid_process(p) for p in processes)


def _valid_process(process: object) -> bool:
    if not isinstance(process, dict) or type(process.get("pid")) is not int:
        return False
    ints = ("parent", "parent_event", "exit_status")
    lists = ("argv", "program", "became", "failed_tests")
    return (all(process.get(k) is None or type(process[k]) is int for k in ints)
            and all(process.get(k) is None or type(process[k]) is list for k in lists)
            and all(type(item) is str for k in lists[:3] for item in process.get(k) or [])
            and (process.get("started") is None or type(process["started"]) is str))


class Recording:
    """A recording, a ``.retrace`` file or a ``REC.d/`` folder alike: every reader opens it
    through this class, so the two forms read the same."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._dir: str | None = None
        tape_dir = next((d for d in format.tape_dirs_to_read(path) if os.path.isdir(d)), "")
        if os.path.isdir(path):
            self._dir = path
        elif os.path.isdir(tape_dir) and (not os.path.isfile(path) or
                                          os.path.getmtime(tape_dir) > os.path.getmtime(path)):
            # A newer tape directory than the file: a recording still running, or killed
            # before it was packed. Its tapes are what the user just recorded.
            self._dir = tape_dir
        elif os.path.isfile(path):
            try:
                self._zip = zipfile.ZipFile(path)
            except READ_ERRORS:
                raise RecordingError(f"{path}: not a retrace recording") from None
            if format.INDEX_NAME not in self._zip.namelist():
                raise RecordingError(f"{path}: not a retrace recording (no {format.INDEX_NAME})")
        else:
            raise RecordingError(f"{path}: no such recording")

    @property
    def directory(self) -> str | None:
        """The tape directory being read, or None for a packed archive."""
        return self._dir

    # -- raw members --------------------------------------------------------------

    def names(self) -> list[str]:
        if self._zip is not None:
            return [n for n in self._zip.namelist() if n != format.ARCHIVE_MAIN]
        found = []
        for root, _dirs, files in os.walk(self._dir):
            for name in files:
                found.append(os.path.relpath(os.path.join(root, name), self._dir).replace(os.sep, "/"))
        return sorted(found)

    def read(self, name: str, limit: int = MAX_MEMBER_SIZE) -> bytes:
        """A member's bytes; a member larger than ``limit`` (or that would inflate to more
        than a recorder ever writes) is refused, so a crafted file cannot fill memory."""
        try:
            if self._zip is not None:
                info = self._zip.getinfo(name)
                refusal = member_refusal(info, limit)
                if refusal:
                    raise RecordingError(f"{self.path}: {refusal}")
                return self._zip.read(info)
            with open(os.path.join(self._dir, name), "rb") as handle:
                data = handle.read(limit + 1)
            if len(data) > limit:
                raise RecordingError(f"{self.path}: {name} is larger than any recording writes")
            return data
        except KeyError:
            raise RecordingError(f"{self.path}: recording has no {name}") from None
        except READ_ERRORS as exc:
            raise RecordingError(f"{self.path}: cannot read {name} ({exc})") from None

    # -- what is in it ------------------------------------------------------------

    @cached_property
    def index(self) -> dict:
        if format.INDEX_NAME in self.names():
            try:
                index = json.loads(self.read(format.INDEX_NAME, MAX_INDEX_SIZE))
            except (ValueError, RecursionError):
                raise RecordingError(f"{self.path}: corrupt {format.INDEX_NAME}") from None
            if not valid_index(index):
                raise RecordingError(f"{self.path}: not a retrace recording (bad {format.INDEX_NAME})")
            if index["format_version"] > format.FORMAT_VERSION:
                raise RecordingError(
                    f"{self.path}: recording format {index['format_version']} is newer than this "
                    f"retrace-tui understands ({format.FORMAT_VERSION}); upgrade retrace-tui")
            return index
        return self._index_from_tapes()

    def _tape_names(self) -> list[str]:
        return [n for n in self.names() if "/" not in n and n.endswith(format.TAPE_SUFFIX)]

    def _index_from_tapes(self) -> dict:
        """An unfinished recording's index, from its tapes' headers (exit statuses and the
        events that started each process are only known once it is packed)."""
        processes, unreadable = [], None
        for name in self._tape_names():
            try:
                processes.append(process_entry(read_header(self.read(name), name), None))
            except RecordingError as exc:  # a child killed before its first flush
                unreadable = unreadable or exc
        if not processes:
            raise unreadable or RecordingError(f"{self.path}: not a retrace recording (no tapes)")
        roots = [process["pid"] for process in processes if process["started"] == "root"]
        ordered = [process for _depth, process in in_tree_order(processes, roots[0] if roots else None)]
        return {"format_version": format.FORMAT_VERSION, "complete": False, "processes": ordered}

    def pids(self) -> list[int]:
        """Process ids, root first; tapes missing from the index are listed after it."""
        listed = [p["pid"] for p in self.index.get("processes", [])]
        on_disk = []
        for name in self._tape_names():
            stem = name[: -len(format.TAPE_SUFFIX)]
            if stem.isdigit() and int(stem) not in listed:
                on_disk.append(int(stem))
        return listed + sorted(on_disk)

    def processes(self) -> list[dict]:
        """The recorded processes in tree order (root first, each after its parent), as
        ``index.json`` lists them; a tape the index does not list is added, incomplete."""
        listed = {process["pid"]: process for process in self.index.get("processes", [])}
        pids = self.pids()
        entries = [listed.get(pid) or {"pid": pid, "parent": None, "started": None, "parent_event": None,
                                       "argv": None, "program": None, "exit_status": None,
                                       "complete": False, "failed_tests": []} for pid in pids]
        return [process for _depth, process in in_tree_order(entries, pids[0] if pids else None)]

    def tape(self, pid: int | None = None) -> Tape:
        pids = self.pids()
        if pid is None:
            if not pids:
                raise RecordingError(f"{self.path}: recording has no processes")
            pid = pids[0]
        elif pid not in pids:
            raise RecordingError(f"{self.path}: no process {pid} (processes: {', '.join(map(str, pids))})")
        name = f"{pid}{format.TAPE_SUFFIX}"
        return read_tape(self.read(name), name)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
