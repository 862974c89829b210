"""The per-thread flag that keeps nested boundary calls off the tape.

A recorded call whose real implementation makes further boundary calls (``uuid4``
reading ``os.urandom``, ``datetime.now(tz)`` running user tzinfo code) is one event:
replay does not run its inside, so its inside must not be recorded either. The
recorder's own work (flushing, packing the archive) runs with the flag set as well.
"""
import _thread


class _Guard(_thread._local):
    busy = False  # the class attribute is every new thread's default


guard = _Guard()


class bypass:
    """Context manager: boundary calls made inside run unrecorded."""

    __slots__ = ("_previous",)

    def __enter__(self) -> None:
        self._previous = guard.busy
        guard.busy = True

    def __exit__(self, *exc: object) -> None:
        guard.busy = self._previous
