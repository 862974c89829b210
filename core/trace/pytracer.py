"""The reference tracer: `types.Tracer` in pure Python with `sys.settrace`.

Slow, and simple enough to be obviously right: csrc/tracer.c must agree with it event
for event (tests/unit/test_tracer.py runs both on the same programs).
"""
from __future__ import annotations

import os
import sys
import weakref
from types import CodeType, FrameType
from typing import Iterable

from retrace_core.boundary.thread_idents import real_get_ident as get_ident
from retrace_core.trace.scope import OURS, PROGRAM, kind_of, prefix_rules
from retrace_core.trace.types import OnStop
from retrace_core.trace.unseen import real_gettrace, real_settrace

STOP_HEADROOM = 500  # as csrc/stops.c: frames on_stop may use above the program's limit
_getrecursionlimit, _setrecursionlimit = sys.getrecursionlimit, sys.setrecursionlimit


def _with_headroom(on_stop: OnStop) -> OnStop:
    """``on_stop`` with room above the program's recursion limit (see csrc/stops.c)."""

    def call(reason: str, frame: FrameType) -> None:
        limit = _getrecursionlimit()
        _setrecursionlimit(limit + STOP_HEADROOM)
        try:
            on_stop(reason, frame)
        finally:
            _setrecursionlimit(limit)

    return call


class PyTracer:
    """sys.settrace: a global function for call events, a local one in program frames."""

    def __init__(self, excluded_prefixes: tuple[str, ...], on_stop: OnStop,
                 included_prefixes: tuple[str, ...] = (), our_prefixes: tuple[str, ...] = ()) -> None:
        self.rules = prefix_rules(tuple(excluded_prefixes), tuple(included_prefixes), tuple(our_prefixes))
        self._on_stop = _with_headroom(on_stop)
        # Keyed by id, the code object held in the value so its id is never reused: code
        # objects compare equal across files (co_filename is not part of equality).
        self._program: dict[int, tuple[CodeType, int]] = {}
        # thread -> the frame our code called into program code from: nothing counts until it returns
        self._suppressed: dict[int, FrameType] = {}
        self._depths: dict[int, int] = {}
        self._active = False
        self._position = 0
        self._paused = 0  # > 0 while a garbage collection runs: its finalizers do not count
        self._target: int | None = None
        self._breakpoints: frozenset[tuple[str, int]] = frozenset()
        self._step: tuple[int | None, int | None] | None = None
        self._stop_on_exception = False
        self._remember_breakpoints = False
        self._remember: tuple[int | None, int | None] | None = None
        self._last_hit: int | None = None
        self._returns: tuple[int, int, list] | None = None  # (thread, depth, values): see set_returns
        self._raised_in: int | None = None  # id of the frame an exception was last raised in (not the frame: its locals)
        reference = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (tracer := reference()) and tracer._forget_other_threads())

    def _kind(self, code: CodeType) -> int:
        known = self._program.get(id(code))
        if known is None:
            known = self._program[id(code)] = (code, kind_of(code.co_filename, self.rules))
        return known[1]

    def _is_program(self, code: CodeType) -> bool:
        return self._kind(code) == PROGRAM

    def _forget_other_threads(self) -> None:
        ident = get_ident()
        self._depths = {ident: self._depths[ident]} if ident in self._depths else {}
        self._suppressed = {ident: self._suppressed[ident]} if ident in self._suppressed else {}

    def start(self) -> None:
        depth = 0
        frame = sys._getframe(1)
        while frame is not None:
            if self._is_program(frame.f_code):
                depth += 1
                frame.f_trace = self._trace_local
            frame = frame.f_back
        self._depths[get_ident()] = depth
        self._active = True
        real_settrace(self._trace_call)

    def stop(self) -> None:
        self._active = False
        if real_gettrace() == self._trace_call:
            real_settrace(None)

    def _trace_call(self, frame: FrameType, event: str, arg: object):
        if not self._active:
            real_settrace(None)
            return None
        if self._paused or not self._is_program(frame.f_code):
            return None
        ident = get_ident()
        if self._suppressed and ident in self._suppressed:
            return None
        if frame.f_back is not None and self._kind(frame.f_back.f_code) == OURS:
            self._suppressed[ident] = frame
            return self._trace_suppressed
        self._depths[ident] = self._depths.get(ident, 0) + 1
        return self._trace_local

    def _trace_suppressed(self, frame: FrameType, event: str, arg: object):
        """The local trace of program code our code called: only its end matters."""
        if event == "return":
            self._suppressed.pop(get_ident(), None)
        return self._trace_suppressed

    def _trace_local(self, frame: FrameType, event: str, arg: object):
        if not self._active:
            return None
        if self._paused:
            return self._trace_local
        if event == "line":
            self._raised_in = None  # caught: the frame goes on
            self._position += 1
            self._check_line(frame)
        elif event == "return":
            ident = get_ident()
            depth = self._depths.get(ident, 0)
            returns = self._returns
            # arg is None also when an exception propagates: the C tracer sees NULL there
            if returns is not None and ident == returns[0] and depth <= returns[1] and id(frame) != self._raised_in:
                returns[2].append(arg)
                self._on_stop("return", frame)
            self._depths[ident] = depth - 1
        elif event == "exception":
            self._raised_in = id(frame)  # a return right after it is the exception leaving the frame
            if self._stop_on_exception:
                self._on_stop("exception", frame)
        return self._trace_local

    def _holds(self, predicate: tuple[int | None, int | None] | None) -> bool:
        if predicate is None:
            return False
        thread, max_depth = predicate
        if thread is not None and get_ident() != thread:
            return False
        return max_depth is None or self._depths.get(get_ident(), 0) <= max_depth

    def _check_line(self, frame: FrameType) -> None:
        breakpoint = (frame.f_code.co_filename, frame.f_lineno) in self._breakpoints
        if (self._remember_breakpoints and breakpoint) or self._holds(self._remember):
            self._last_hit = self._position
        if self._target == self._position:
            self._on_stop("target", frame)
        elif breakpoint and not self._remember_breakpoints:
            self._on_stop("breakpoint", frame)
        elif self._holds(self._step):
            self._on_stop("step", frame)

    @property
    def position(self) -> int:
        return self._position

    def depth(self, thread_ident: int) -> int:
        return self._depths.get(thread_ident, 0)

    def set_target(self, position: int | None) -> None:
        if position is not None and position < 0:
            raise ValueError("a target position is >= 0")
        self._target = position

    def set_breakpoints(self, breakpoints: Iterable[tuple[str, int]]) -> None:
        self._breakpoints = frozenset((str(filename), int(line)) for filename, line in breakpoints)

    def set_step(self, thread_ident: int | None, max_depth: int | None) -> None:
        self._step = None if thread_ident is None and max_depth is None else (thread_ident, max_depth)

    def set_stop_on_exception(self, on: bool) -> None:
        self._stop_on_exception = bool(on)

    def set_remember(self, breakpoints: bool, thread_ident: int | None, max_depth: int | None) -> None:
        self._remember_breakpoints = bool(breakpoints)
        self._remember = None if thread_ident is None and max_depth is None else (thread_ident, max_depth)

    def set_returns(self, thread_ident: int, depth: int | None, returns: list | None) -> None:
        self._returns = None if returns is None or depth is None else (thread_ident, depth, returns)

    @property
    def last_hit(self) -> int | None:
        return self._last_hit

    def clear_remembered(self) -> None:
        self._last_hit = None

    def pause(self, paused: bool) -> None:
        self._paused += 1 if paused else -1

