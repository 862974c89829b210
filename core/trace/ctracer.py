"""The engine's tracer: a thin class over csrc/tracer.c (see `types.Tracer`)."""
from __future__ import annotations

from retrace_core._engine import ffi, lib
from retrace_core.trace.scope import prefix_rules

# Imported for annotations only, never at run time: these modules load in every recorded
# and replayed process, before the program, and import nothing they can avoid.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from retrace_core.trace.types import OnStop


def _address(obj: object):
    return ffi.cast("void *", id(obj))


MONITORING = bool(lib.rt_tracer_can_monitor())  # sys.monitoring (3.12 and later): csrc/monitor.c


class CTracer:
    """The C tracer: counts and checks in C, calls `on_stop` only to stop. Its events come
    from sys.monitoring where there is one (3.12 and later: csrc/monitor.c), else from a
    trace function (csrc/tracer.c); ``monitoring=False`` asks for the trace function."""

    def __init__(self, excluded_prefixes: tuple[str, ...], on_stop: OnStop,
                 included_prefixes: tuple[str, ...] = (), our_prefixes: tuple[str, ...] = (),
                 monitoring: bool = MONITORING) -> None:
        self.rules = prefix_rules(tuple(excluded_prefixes), tuple(included_prefixes), tuple(our_prefixes))
        self.monitoring = monitoring
        holder: list = []
        if lib.rt_tracer_new(_address(self.rules), _address(on_stop), _address(holder), bool(monitoring)) != 0:
            raise RuntimeError("the C tracer could not be created")
        # The C object holds on_stop; we hold the C object as a real reference, so the
        # garbage collector sees a cycle through on_stop.
        self._core = holder[0]
        self._handle = _address(self._core)

    def start(self) -> None:
        if lib.rt_tracer_start(self._handle) != 0:
            raise RuntimeError("the C tracer could not start" + (" (sys.monitoring)" if self.monitoring else ""))

    def stop(self) -> None:
        lib.rt_tracer_stop(self._handle)

    def resume(self, position: int) -> None:
        """Trace the calling thread again after an untraced stretch, counting on from
        ``position``: its depth is what a traced run would have left (see tracer.c)."""
        if lib.rt_tracer_resume(self._handle, position) != 0:
            raise RuntimeError("the C tracer could not resume")

    @property
    def position(self) -> int:
        return lib.rt_tracer_position(self._handle)

    def depth(self, thread_ident: int) -> int:
        return lib.rt_tracer_depth(self._handle, thread_ident)

    def take_shallowest(self, thread_ident: int) -> int:
        """The shallowest depth any thread returned to since the last call (or the start),
        then from now on the depth of ``thread_ident``."""
        return lib.rt_tracer_take_shallowest(self._handle, thread_ident)

    def set_watch_filter(self, frame, lines: list[int] | None) -> None:
        """In ``frame``, the step stops only at ``lines`` and at the line after each (a watch
        on local names: where they are stored); None: no filter."""
        if frame is None or lines is None:
            lib.rt_tracer_set_watch_filter(self._handle, ffi.NULL, ffi.NULL)
        elif lib.rt_tracer_set_watch_filter(self._handle, _address(frame), _address(lines)) != 0:
            lib.rt_tracer_set_watch_filter(self._handle, ffi.NULL, ffi.NULL)

    def set_target(self, position: int | None) -> None:
        if position is not None and position < 0:
            raise ValueError("a target position is >= 0")
        lib.rt_tracer_set_target(self._handle, -1 if position is None else position)

    def set_breakpoints(self, breakpoints: Iterable[tuple[str, int]]) -> None:
        pairs = [(str(filename), int(line)) for filename, line in breakpoints]
        if lib.rt_tracer_set_breakpoints(self._handle, _address(pairs)) != 0:
            raise RuntimeError("the C tracer could not store the breakpoints")

    def set_step(self, thread_ident: int | None, max_depth: int | None) -> None:
        lib.rt_tracer_set_step(self._handle, thread_ident is not None, thread_ident or 0,
                               max_depth is not None, max_depth or 0)

    def set_stop_on_exception(self, on: bool) -> None:
        lib.rt_tracer_set_stop_on_exception(self._handle, bool(on))

    def set_remember(self, breakpoints: bool, thread_ident: int | None, max_depth: int | None) -> None:
        lib.rt_tracer_set_remember(self._handle, bool(breakpoints), thread_ident is not None,
                                   thread_ident or 0, max_depth is not None, max_depth or 0)

    def set_returns(self, thread_ident: int, depth: int | None, returns: list | None) -> None:
        if returns is None or depth is None:
            lib.rt_tracer_set_returns(self._handle, 0, -1, ffi.NULL)
        else:
            lib.rt_tracer_set_returns(self._handle, thread_ident, depth, _address(returns))

    @property
    def last_hit(self) -> int | None:
        hit = lib.rt_tracer_last_hit(self._handle)
        return None if hit < 0 else hit

    def clear_remembered(self) -> None:
        lib.rt_tracer_clear_remembered(self._handle)

    def pause(self, paused: bool) -> None:
        lib.rt_tracer_pause(self._handle, 1 if paused else 0)

    def sight(self, callback) -> bool:
        """While the tracer is stopped: ``callback(frame)`` at each run of a breakpoint's
        line, nothing counted: over sys.monitoring the rest of the program runs at plain
        speed (csrc/monitor.c), over 3.11's trace function without line events outside the
        line's code (csrc/tracer.c). False: not now (the tracer runs, or the program's own
        trace function holds 3.11's slot)."""
        return lib.rt_tracer_sight(self._handle, _address(callback)) == 0

    def unsight(self) -> bool:
        """End the sighting; False: it did not see every run (the program set a trace
        function of its own meanwhile, on 3.11)."""
        return lib.rt_tracer_sight(self._handle, ffi.NULL) == 0

    # -- the line map (csrc/linemap.c) --

    def gather_line_map(self, on: bool) -> None:
        """From now on, note (or stop noting) in which stretch between events each program
        line runs."""
        lib.rt_tracer_gather_line_map(self._handle, 1 if on else 0)

    @property
    def keep_slot(self):
        """A function to call at each event, or None: over a trace function, ours takes the
        trace slot back from a C tracer the program set since (coverage's), and calls that
        one on (tracer.c). A method of the C object: it costs a check per event."""
        return None if self.monitoring else self._core.keep_slot

    @property
    def note_event(self):
        """A function to call as each event is consumed: notes its position (for
        `take_event_positions`) and starts the next stretch of the line map. A method of
        the C object, called directly: once per event, it must cost next to nothing."""
        return self._core.note_event

    def note_break(self) -> int:
        """A stretch of the line map ends here without an event (a snapshot of the
        indexing pass); returns the number of the stretch that begins."""
        return self._core.note_break()

    def take_event_positions(self) -> list[int]:
        return self._core.take_event_positions()

    def restart_events(self) -> None:
        """The events start again from 1 (a forked child's tape): the positions noted are
        dropped, and the lines the map has seen ran in stretch 0, before the first."""
        self._core.restart_events()

    def take_line_map(self) -> dict | None:
        """{filename: {line: bytes of uint32 (first, end) stretch ranges}}, or None when it could not be kept whole;
        gathering ends."""
        holder: list = []
        if lib.rt_tracer_take_line_map(self._handle, _address(holder)) != 0:
            return None
        return holder[0]


class SettraceCTracer(CTracer):
    """The C tracer over its trace function even where sys.monitoring exists: 3.11's
    tracer, kept on 3.12+ to compare the two (they must agree, position for position)."""

    def __init__(self, excluded_prefixes: tuple[str, ...], on_stop: OnStop,
                 included_prefixes: tuple[str, ...] = (), our_prefixes: tuple[str, ...] = ()) -> None:
        super().__init__(excluded_prefixes, on_stop, included_prefixes, our_prefixes, monitoring=False)
