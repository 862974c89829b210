"""The interface every tracer implements (C engine and Python reference)."""
from __future__ import annotations

from types import FrameType
from typing import Callable, Iterable, Protocol

# on_stop(reason, frame): reason is "target", "breakpoint", "step" or "exception". The
# program continues when it returns; it may change the stop conditions, and nothing it
# runs is traced or counted. An exception it raises goes into the program at that point
# and ends tracing on that thread.
OnStop = Callable[[str, FrameType], object]


class Tracer(Protocol):
    """Counts line events of program code and stops the program where asked.

    Program code is every code object whose `co_filename` the prefix rules call program
    code (`scope.prefix_rules`: the longest matching excluded or included prefix decides;
    no match is program code). On a line event the position is
    counted first, then the conditions are checked; one line event stops at most once,
    with the first reason that holds in the order target, breakpoint, step.
    """

    def __init__(self, excluded_prefixes: tuple[str, ...], on_stop: OnStop,
                 included_prefixes: tuple[str, ...] = (), our_prefixes: tuple[str, ...] = ()) -> None: ...

    rules: tuple[tuple[str, int], ...]  # the prefix rules (scope.prefix_rules) in force

    def start(self) -> None:
        """Trace the calling thread from now on (program frames already on its stack
        count towards its depth and get their line events)."""

    def stop(self) -> None:
        """Stop tracing: at once on the calling thread, at their next event on others."""

    @property
    def position(self) -> int:
        """Line events of program code since the tracer was made, across threads."""

    def depth(self, thread_ident: int) -> int:
        """The number of program-code frames on that thread's stack."""

    def set_target(self, position: int | None) -> None:
        """Stop ("target") at the line event that makes `position` equal this."""

    def set_breakpoints(self, breakpoints: Iterable[tuple[str, int]]) -> None:
        """Stop ("breakpoint") at line events at these (filename, line) pairs."""

    def set_step(self, thread_ident: int | None, max_depth: int | None) -> None:
        """Stop ("step") at line events in that thread (None: any) at depth <= max_depth
        (None: any depth); off when both are None."""

    def set_stop_on_exception(self, on: bool) -> None:
        """Stop ("exception") at each exception event of program code: where it is
        raised and in each program frame it propagates through."""

    def set_remember(self, breakpoints: bool, thread_ident: int | None, max_depth: int | None) -> None:
        """Remember, without stopping, the last position whose line event was a
        breakpoint hit (if `breakpoints`: breakpoints then only remember, they do not
        stop) or matched a (thread, depth) predicate as in `set_step` (off when both are
        None). A line that stops (e.g. the target) is remembered first if it matches."""

    def set_returns(self, thread_ident: int, depth: int | None, returns: list | None) -> None:
        """Each return of a program frame at ``depth`` or shallower in that thread (None: none):
        append the value to ``returns``, then call on_stop("return", frame)."""

    @property
    def last_hit(self) -> int | None:
        """The last remembered position, or None."""

    def clear_remembered(self) -> None:
        """Forget the last remembered position."""

    def pause(self, paused: bool) -> None:
        """Ignore every event while paused (calls nest): a garbage collection runs
        finalizers when allocations say so, which differs from run to run."""
