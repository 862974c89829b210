"""TapeWriter: the recorder's only way to the disk.

Hot path: an event is two ``bytearray`` appends under a lock (the header bytes are
precomputed per function). A private flusher thread (flusher.py) compresses whatever
has piled up into one lz4 frame every 100 ms, so a process killed with SIGKILL leaves a
tape that is readable up to its last flush.

What the writer keeps between events is ints and bytes, never a container: a program that
counts its live objects (``gc.get_objects``) would count one made after its last collection.
"""
from __future__ import annotations

import _thread
import gc
import os
import signal
import sys

import lz4.frame

from retrace_core.boundary.fd_numbers import close_ours, out_of_the_way
from retrace_core.boundary.guard import guard
from retrace_core.tape import codec, format
from retrace_core.tape.exceptions import describe_exception
from retrace_core.tape.flusher import Flusher
from retrace_core.tape.hand_offs import program_place, ran_on

_pack = codec.packb
_RAN_ON = codec.packb([format.RAN_ON])
# Captured before any boundary patch is applied: the writer must never record itself.
_os_write = os.write
_os_open = os.open
_get_ident = _thread.get_ident
_allocate_lock = _thread.allocate_lock  # taken before patching: our locks make no events
_thread_count = _thread._count  # threads started after the main one, ours included
_compress = lz4.frame.compress
_block_signals = signal.pthread_sigmask
_getframe = sys._getframe
_gc_count = gc.get_count


def _open_tape(path: str) -> int:
    """The tape file, on a descriptor out of the program's way (fd_numbers.py)."""
    return out_of_the_way(_os_open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600))


COLLECTION_CHECK_EVERY = 16  # events between two looks at the collector's young count
COLLECTION_RETRY_EVERY = 1  # events between two looks while a due collection waits for the other threads


class TapeWriter:
    """Appends events and control records to one process's tape file."""

    def __init__(self, path: str, on_fault=None) -> None:
        self.path = path
        self.active = True
        self._fd = _open_tape(path)
        self._buffer = bytearray()
        self._lock = _allocate_lock()
        self._flush_lock = _allocate_lock()
        self._threads = {_get_ident(): 0}  # OS thread ident -> logical thread
        self._next_logical = 1
        self._thread_local = _thread._local()
        self._current_thread = _get_ident()
        self._next_fid = 0
        self._definitions: list[list] = []  # every DEFINE record, for a forked child's own tape
        self._on_fault = on_fault
        self.flusher = Flusher()
        self._own_threads = 0  # threads of ours that _thread._count() counts (the flusher)
        # Collections placed before events (collector.py): over collect_over, collector() runs.
        self.collect_over = sys.maxsize
        self.collector = None
        self._until_collection_check = COLLECTION_CHECK_EVERY
        # The last hand-off event (hand_offs.py): its thread (0: none), where the tape ended
        # after it (bytes flushed + buffered), and its program place. Plain ints, not a tuple:
        # the program's own census of live objects (gc.get_objects) must not see ours come and go.
        self._handoff_thread = 0
        self._handoff_end = self._handoff_place = 0
        self._flushed = 0  # bytes of records flushed so far

    # -- the hot path -------------------------------------------------------------

    def returned(self, header: bytes, value: object) -> None:
        """Append an event that carries only its result."""
        self._until_collection_check -= 1
        if self._until_collection_check <= 0:
            self._collection_check()
        try:
            data = header + _pack(value)
        except Exception as exc:
            self.fault(exc)
            return
        if _thread_count() == self._own_threads and _get_ident() == self._current_thread:
            # No other thread of the program exists: one `+=` is atomic under the GIL.
            self._buffer += data
            return
        ident = _get_ident()
        with self._lock:
            if ident != self._current_thread:
                self._switch_thread(ident)
            self._buffer += data

    def handed_off(self, header: bytes, value: object) -> None:
        """Append a lock hand-off event (threads exist), and mark it (see _switch_thread)."""
        self._until_collection_check -= 1
        if self._until_collection_check <= 0:
            self._collection_check()
        try:
            data = header + _pack(value)
        except Exception as exc:
            self.fault(exc)
            return
        ident = _get_ident()
        place = program_place(_getframe(1))
        with self._lock:
            if ident != self._current_thread:
                self._switch_thread(ident)
            self._buffer += data
            self._handoff_thread = ident
            self._handoff_end = self._flushed + len(self._buffer)
            self._handoff_place = place

    def returned_with_arguments(self, header: bytes, arguments: object, value: object) -> None:
        """Append an event that carries its arguments and its result."""
        self._append_packed(header, True, arguments, value, codec.packb)

    def raised(self, header: bytes, arguments: object, exception: BaseException) -> None:
        """Append an event whose call raised; ``arguments`` is None for no-argument calls."""
        self._append_packed(header, arguments is not None, arguments, exception, _pack_exception)

    def _append_packed(self, header: bytes, with_arguments: bool, arguments: object, value: object,
                       pack) -> None:
        # The whole event is packed first, with the guard held, and appended in one piece:
        # a boundary call made while packing (a GC callback, a finalizer) is not recorded and
        # cannot land inside this event.
        self._until_collection_check -= 1
        if self._until_collection_check <= 0:
            self._collection_check()
        previous = guard.busy
        guard.busy = True
        try:
            try:
                data = header + (codec.pack_arguments(arguments) if with_arguments else b"") + pack(value)
            except Exception as exc:
                self.fault(exc)
                return
            ident = _get_ident()
            with self._lock:
                if ident != self._current_thread:
                    self._switch_thread(ident)
                self._buffer += data
        finally:
            guard.busy = previous

    def _collection_check(self) -> None:
        """Every few events (asking the collector costs more than counting): when a
        collection is due, run it before this event, where the replay will run it too;
        not inside the recorder's own work, nor in a thread the tape does not know yet
        (its first record must be an event: the replay finds new threads by them)."""
        self._until_collection_check = COLLECTION_CHECK_EVERY
        if _gc_count()[0] <= self.collect_over or guard.busy or self.collector is None \
                or _get_ident() not in self._threads or not self.active:
            return
        try:
            if self.collector() is False:
                self._until_collection_check = COLLECTION_RETRY_EVERY
        except Exception as exc:
            self.fault(exc)

    def collected(self, generation: int, standing: list[int]) -> None:
        """A placed collection starts in this thread: its record, before the events its
        finalizers make, with the other threads that stood at boundary calls (the replay
        lets them run on to those calls first)."""
        ident = _get_ident()
        record = [format.COLLECT, generation, standing] if standing else [format.COLLECT, generation]
        with self._lock:
            if ident != self._current_thread:
                self._switch_thread(ident)
            self._buffer += _pack(record)

    def other_threads(self) -> dict[int, int]:
        """The program's threads the tape knows besides the calling one: OS ident -> logical."""
        # Copied in one step under the GIL, not our lock: this runs at every event while a
        # collection waits, and taking turns at a lock costs the GIL's switch interval.
        threads = self._threads.copy()
        threads.pop(_get_ident(), None)
        return threads

    # -- control records ----------------------------------------------------------

    def define(self, name: str, flags: int) -> int:
        """Intern a function name; returns its fid for :func:`format.event_header`."""
        with self._lock:
            fid = self._next_fid
            self._next_fid += 1
            self._definitions.append([format.DEFINE, fid, name, flags])
            self._buffer += codec.packb(self._definitions[-1])
        return fid

    def control(self, record: list) -> None:
        with self._lock:
            try:
                self._buffer += codec.packb(record)
            except Exception as exc:
                self._fault_locked(exc)

    def new_thread(self) -> int:
        """A logical id for a thread the program is starting: creation order."""
        with self._lock:
            logical = self._next_logical
            self._next_logical += 1
            return logical

    def adopt_thread(self, logical: int) -> None:
        """In a thread the program started: its events belong to ``logical``."""
        ident = _get_ident()
        with self._lock:
            self._threads[ident] = logical
            self._thread_local.end = _ThreadEnd(self, ident)  # forgets ident when the thread ends

    def logical_threads(self, idents: list) -> list:
        """The logical ids of these OS threads (None for a thread the tape has not seen)."""
        with self._lock:
            return [self._threads.get(ident) for ident in idents]

    def logical_thread(self) -> int:
        """The logical id of the calling thread (assigned on first use)."""
        with self._lock:
            return self._logical_id(_get_ident())

    def _logical_id(self, ident: int) -> int:
        logical = self._threads.get(ident)
        if logical is None:
            logical = self._threads[ident] = self._next_logical
            self._next_logical += 1
            self._thread_local.end = _ThreadEnd(self, ident)  # forgets ident when the thread ends
        return logical

    def _thread_ended(self, ident: int) -> None:
        with self._lock:
            self._threads.pop(ident, None)
            if self._current_thread == ident:
                self._current_thread = None

    def _switch_thread(self, ident: int) -> None:
        """Another thread's event comes next (under the lock): see hand_offs.py for RAN_ON."""
        handed_off = self._handoff_thread
        if handed_off:
            self._handoff_thread = 0
            # Nothing written after the hand-off (a flush in between does not count: a thread
            # that blocked in its next call gave the flusher time, which is when it matters).
            if handed_off == self._current_thread and self._handoff_end == self._flushed + len(self._buffer) \
                    and ran_on(handed_off, self._handoff_place):
                self._buffer += _RAN_ON
        self._current_thread = ident
        self._buffer += codec.packb([format.THREAD, self._logical_id(ident)])

    # -- faults -------------------------------------------------------------------

    def fault(self, exc: BaseException) -> None:
        """Stop recording because of a bug of ours; the program goes on."""
        with self._lock:
            if self.active:
                self._fault_locked(exc)

    def _fault_locked(self, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}"
        self._buffer += codec.packb([format.FAULT, message])
        self._disable()
        if self._on_fault is not None:
            self._on_fault(message)

    def _disable(self) -> None:
        self.active = False
        # Later calls become no-ops without a check on the hot path.
        self.returned = _ignore  # type: ignore[method-assign]
        self.returned_with_arguments = _ignore  # type: ignore[method-assign]
        self.raised = _ignore  # type: ignore[method-assign]
        self.handed_off = _ignore  # type: ignore[method-assign]

    # -- flushing -----------------------------------------------------------------

    def flush(self) -> None:
        # The flusher runs this while the program runs: it makes no object that lives while
        # the program may look (compressing and writing let other threads run), or a program
        # that counts its live objects (gc.get_objects) would count ours now and then. So
        # acquire/release, not ``with`` (which holds a bound ``__exit__`` through its block).
        self._flush_lock.acquire()
        try:
            self._lock.acquire()
            try:
                if not self._buffer:
                    return
                data = bytes(self._buffer)
                del self._buffer[:]
                self._flushed += len(data)
            finally:
                self._lock.release()
            frame = _compress(data, store_size=True)
            try:
                _write_all(self._fd, frame)
            except OSError as exc:
                self._write_failed(exc)
        finally:
            self._flush_lock.release()

    def _write_failed(self, exc: OSError) -> None:
        """The disk is full or the tape is gone: stop recording, never the program."""
        with self._lock:
            self._disable()
            self._buffer = bytearray()
            self.control = _ignore  # type: ignore[method-assign]
            self.flush = _ignore  # type: ignore[method-assign]
        if self._on_fault is not None:
            self._on_fault(f"cannot write the tape: {exc.strerror or exc}")

    def start_flusher(self) -> None:
        with self._lock:
            self._own_threads = 1
            self.flusher.start(self.flush)

    def stop_flusher(self) -> None:
        if self.flusher.stop():
            with self._lock:
                self._own_threads = 0

    def close(self) -> None:
        """Stop the flusher, write what is buffered, close the file."""
        self.stop_flusher()
        self.flush()
        if self._fd >= 0:
            close_ours(self._fd)
            self._fd = -1

    def continue_in_forked_child(self, path: str, header: dict) -> None:
        """In a forked child: go on in a tape of its own at ``path``, which starts with
        ``header`` and the function definitions (so it reads without the parent's), in
        the forking thread's logical thread. What the parent had buffered stays the
        parent's. Raises OSError when the tape cannot be created."""
        # Another thread may have held these at the fork; it does not exist here.
        self._lock = _allocate_lock()
        self._flush_lock = _allocate_lock()
        self.flusher.forget()
        self._own_threads = 0
        ident = _get_ident()
        logical = self._threads.get(ident, 0)
        self._threads = {ident: logical}
        self._current_thread = ident
        start = bytearray(codec.packb([format.PROCESS, header]))
        for record in self._definitions:
            start += codec.packb(record)
        start += codec.packb([format.THREAD, logical])
        self._buffer = bytearray()
        self._handoff_thread = 0
        # Made with its first frame in it, SIGTERM held off: a pool's worker terminated as it
        # started (no flusher runs yet) left an empty file, "not a retrace tape" (1 in 60).
        frame = _compress(bytes(start), store_size=True)
        previous = _block_signals(signal.SIG_BLOCK, (signal.SIGTERM,))
        try:
            fd = _open_tape(path)
            _write_all(fd, frame)
        finally:
            _block_signals(signal.SIG_SETMASK, previous)
        try:
            close_ours(self._fd)
        except OSError:
            pass
        self._fd = fd

    def abandon_after_fork(self) -> None:
        """In a forked child: never touch the parent's tape again."""
        self.flusher.forget()
        self._buffer = bytearray()
        self._disable()
        self.flush = _ignore  # type: ignore[method-assign]
        self.control = _ignore  # type: ignore[method-assign]
        try:
            close_ours(self._fd)
        except OSError:
            pass
        self._fd = -1


def _write_all(fd: int, data: bytes) -> None:
    written = _os_write(fd, data)  # whole, as a rule: no memoryview to live while it writes
    if written < len(data):
        view = memoryview(data)[written:]
        while view:
            view = view[_os_write(fd, view):]


class _ThreadEnd:
    __slots__ = ("writer", "ident")

    def __init__(self, writer, ident):
        self.writer, self.ident = writer, ident

    def __del__(self):
        try:
            self.writer._thread_ended(self.ident)
        except Exception:
            pass


def _pack_exception(exception: BaseException) -> bytes:
    return codec.pack_arguments(describe_exception(exception))


def _ignore(*args: object) -> None:
    return None
