"""Constants of the `.retrace` format, shared by writer and readers.

A tape (`<pid>.bin`) is a sequence of lz4 frames; their decompressed concatenation is
a stream of msgpack objects. An object is either

- an int, the header of a boundary event: ``fid << 2 | status``, followed by the
  call's encoded arguments (only for functions defined with ``HAS_ARGS``) and then by
  its payload (the return value, or the exception for ``RAISED``); or
- a list whose first item is one of the record tags below (control records).

Every event belongs to the logical thread named by the last ``THREAD`` record
(thread 0 until the first one), so a thread costs bytes only when it changes.
"""

FORMAT_VERSION = 1

INDEX_NAME = "index.json"
SOURCES_DIR = "sources"
TAPE_SUFFIX = ".bin"
ARCHIVE_MAIN = "__main__.py"
TAPE_DIR_SUFFIX = ".d"
RECORDING_SUFFIX = ".retrace"

# Control record tags.
PROCESS = 0  # [PROCESS, {pid, ppid, argv, cwd, env, hash_seed, python, ...}]
DEFINE = 1  # [DEFINE, fid, name, flags]
THREAD = 2  # [THREAD, logical_thread]
MARKER = 3  # [MARKER, kind, {data}]
EXIT = 4  # [EXIT, {exit_status, end}]
FAULT = 5  # [FAULT, message]  the recorder stopped; later calls were not recorded
# [COLLECT, generation(, [logical threads])]  a garbage collection ran here, in this thread, while
# those other threads stood at boundary calls (boundary/collector.py)
COLLECT = 6
# [RAN_ON]  the thread of the lock hand-off event just before came to its next boundary call
# before any other thread's event: a replay lets it run on there instead of passing the turn
# (writer._switch_thread, replay/turns.py)
RAN_ON = 7

# Event statuses (low two bits of an event header).
RETURNED = 0
RAISED = 1
STATUS_BITS = 2
STATUS_MASK = (1 << STATUS_BITS) - 1

# DEFINE flags.
HAS_ARGS = 1


def event_header(fid: int, status: int) -> int:
    return fid << STATUS_BITS | status


def tape_dir_for(recording: str) -> str:
    """The extracted tape directory that belongs to a recording path: ``run.retrace`` ->
    ``run.d``, as the original Retrace names it (``--extract`` writes ``run.d/index.json``
    and ``run.d/<PID>.bin``); any other name gets ``.d`` appended."""
    stem = recording[:-len(RECORDING_SUFFIX)] if recording.endswith(RECORDING_SUFFIX) else recording
    return stem + TAPE_DIR_SUFFIX


def tape_dirs_to_read(recording: str) -> tuple[str, ...]:
    """Where a reader looks for a recording's tape directory: the current name, then the
    ``run.retrace.d`` that earlier versions wrote."""
    current = tape_dir_for(recording)
    older = recording + TAPE_DIR_SUFFIX
    return (current,) if older == current else (current, older)


def collect_shaped(record: list) -> bool:
    """Is this COLLECT record [COLLECT, generation] or [COLLECT, generation, [logical
    threads]], of those types? (A tape is untrusted input.)"""
    if len(record) == 2:
        return type(record[1]) is int
    return (len(record) == 3 and type(record[1]) is int and type(record[2]) is list
            and all(type(thread) is int for thread in record[2]))
