"""Every message between the controller and its workers, both ways, one class each.

Controller → worker: :class:`Run`, :class:`Inspect`, :class:`Reap`, :class:`Quit`, and to
a snapshot :class:`Fork`. Worker → controller: :class:`Hello`, :class:`SnapshotTaken`,
:class:`Stopped`, :class:`Finished`, :class:`Inspected`, :class:`Reaped`, :class:`Error`.
:class:`Step`, :class:`Breakpoint` and :class:`Remember` are parts of :class:`Run`.

A message is encoded as ``[kind, field, field, ...]`` (msgpack data, see protocol.py) and
decoded by :func:`decode`; nothing else builds or takes them apart. Values that come from
elsewhere keep their own shape: frames and locals as ``inspection`` describes them,
markers as the pytest plugin records them, a divergence as its report.

Why not ``dataclasses``: this module is imported by every recorded and replayed process
before the program starts (bootstrap/preload.py), where ``dataclasses`` would bring
``inspect``, ``ast`` and ``tokenize`` along; and a dataclass's ``__init__`` is compiled
from a string, which the tracer counts as program code. :class:`Message` does the little
that is needed: fields from the class annotations, defaults from the class body.
"""
from __future__ import annotations


class Message:
    """Base of all messages: fields are the annotated names, in order; a field that has
    a value in the class body is optional, with that value as default (never mutable)."""

    kind = ""
    fields: tuple[str, ...] = ()
    _defaults: dict = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        names = [*cls.fields, *(name for name in cls.__dict__.get("__annotations__", {})
                                if name not in cls.fields)]
        cls.fields = tuple(names)
        cls._defaults = {name: getattr(cls, name) for name in names if hasattr(cls, name)}
        if cls.kind:
            _KINDS[cls.kind] = cls

    def __init__(self, *args, **kwargs) -> None:
        if len(args) > len(self.fields):
            raise TypeError(f"{type(self).__name__} takes {len(self.fields)} fields")
        values = dict(zip(self.fields, args))
        for name, value in kwargs.items():
            if name not in self.fields or name in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field {name!r}")
            values[name] = value
        for name in self.fields:
            if name in values:
                setattr(self, name, values[name])
            elif name not in self._defaults:
                raise TypeError(f"{type(self).__name__}: missing field {name!r}")

    def values(self) -> list:
        """The fields' values, in order, as msgpack data."""
        return [getattr(self, name) for name in self.fields]

    @classmethod
    def from_values(cls, values: list) -> Message:
        return cls(*values)

    def encode(self) -> list:
        return [self.kind, *self.values()]

    def __eq__(self, other: object) -> bool:
        """Equal as they travel (a tuple arrives as a list)."""
        return type(other) is type(self) and _as_sent(self.values()) == _as_sent(other.values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.fields)
        return f"{type(self).__name__}({shown})"


_KINDS: dict[str, type[Message]] = {}


def _as_sent(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [_as_sent(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_sent(item) for key, item in value.items()}
    return value


def decode(data: list) -> Message:
    """The message that ``Message.encode`` made ``data`` from."""
    return _KINDS[data[0]].from_values(data[1:])


# -- parts -----------------------------------------------------------------------------


class Step(Message):
    """Stop at the next line of logical thread ``thread`` (0: the main thread) at
    ``depth`` program frames or fewer; ``depth`` None: at any depth."""

    thread: int
    depth: int | None = None


class Breakpoint(Message):
    """A line to stop at. ``condition`` None: always. ``pure``: the condition has no side
    effects (the controller decides, see conditions.py) and is evaluated in the worker
    itself; any other runs in a throw-away fork."""

    file: str
    line: int
    condition: str | None = None
    pure: bool = False


class Remember(Message):
    """While running to the target, remember the last position where a breakpoint
    (``breakpoints``) or the step condition ``step`` held, instead of stopping there."""

    breakpoints: bool = False
    step: Step | None = None

    def values(self) -> list:
        return [self.breakpoints, self.step.values() if self.step is not None else None]

    @classmethod
    def from_values(cls, values: list) -> Remember:
        breakpoints, step = values
        return cls(breakpoints, Step(*step) if step is not None else None)


class Watch(Message):
    """Expressions to watch while the run goes on (see watching.py). ``entries``: [id,
    expression, condition, depth, code] each: evaluated at every line of the frame at
    program ``depth`` of logical thread ``thread`` while its call lives; ``code``
    ([file, function, first line]) instead: at every line of every call of that
    function. ``mode``: "stop" (stop after the line that changed one), "collect" (run
    to the target, gathering every change) or "log" (evaluate at every breakpoint hit,
    gathering the values)."""

    thread: int = 0
    entries: tuple = ()
    mode: str = "stop"


# -- controller -> worker -----------------------------------------------------------------


class Run(Message):
    """Run the program on until ``target`` (a position; None: no target), a breakpoint,
    the step condition, an exception (``stop_on_exception``) or the end. ``snapshots``:
    offer snapshots on the way. ``index``: the indexing pass, reported in Finished."""

    kind = "run"
    target: int | None = None
    snapshots: bool = True
    index: bool = False
    breakpoints: tuple = ()  # of Breakpoint
    step: Step | None = None
    remember: Remember | None = None
    stop_on_exception: bool = False
    watch: Watch | None = None
    # [event, position]: run untraced until that event is consumed, then trace on from its
    # position (measured by the indexing pass); only for a run to a target, alone.
    untraced_to: list | None = None
    # Stop at the first line after this event is consumed, and report as ``last_hit``
    # what was remembered before it (the tracer's own target needs a position).
    before_event: int | None = None
    # With ``untraced_to``: while untraced, note this expression at each run of the
    # breakpoints' line (a logpoint's sighting, see untraced_runs.py), reported in ``watched``.
    sight: str | None = None
    # Pass this many breakpoint hits before stopping at one (a logpoint's run, found again).
    skip_hits: int = 0

    def values(self) -> list:
        return [self.target, self.snapshots, self.index, [point.values() for point in self.breakpoints],
                self.step.values() if self.step is not None else None,
                self.remember.values() if self.remember is not None else None, self.stop_on_exception,
                self.watch.values() if self.watch is not None else None, self.untraced_to, self.before_event,
                self.sight, self.skip_hits]

    @classmethod
    def from_values(cls, values: list) -> Run:
        target, snapshots, index, breakpoints, step, remember, stop_on_exception, watch, untraced_to, before_event, \
            sight, skip_hits = values
        return cls(target, snapshots, index, [Breakpoint(*point) for point in breakpoints],
                   Step(*step) if step is not None else None,
                   Remember.from_values(remember) if remember is not None else None, stop_on_exception,
                   Watch(*watch) if watch is not None else None, untraced_to, before_event, sight, skip_hits)


class Inspect(Message):
    """Describe the stopped program (answered by :class:`Inspected`). ``what``: "state"
    (the stack, ``frame``'s locals, the threads), "expand" (the children of the local at
    ``path``), "repr" (its whole repr) or "evaluate" (``expression`` in ``frame``).
    ``thread`` None: the thread that stopped."""

    kind = "inspect"
    what: str = "state"
    frame: int = 0
    thread: int | None = None
    path: tuple = ()
    expression: str | None = None


class Reap(Message):
    """Wait for these snapshots of yours, which the controller has just killed (so that
    none is left a zombie after the move); answered by :class:`Reaped`."""

    kind = "reap"
    pids: tuple = ()


class Fork(Message):
    """To a snapshot: fork a child that becomes the active worker (it says Hello)."""

    kind = "fork"


class Quit(Message):
    """A worker or snapshot exits at once (`_exit`): the session is closing, or the
    controller has no more use for it."""

    kind = "quit"


# -- worker -> controller -----------------------------------------------------------------


class Hello(Message):
    """The first message of every new process: ``role`` is "worker" or "snapshot"."""

    kind = "hello"
    role: str
    pid: int
    position: int


class SnapshotTaken(Message):
    """The active worker left a snapshot at ``position`` (it says Hello itself). Sent
    before anything that happened after it, so the controller knows of it in time."""

    kind = "snapshot"
    pid: int
    position: int
    event: int


class Stopped(Message):
    """The active worker stopped at a line and waits for orders. ``last_hit``: the last
    position remembered (see Remember), if any."""

    kind = "stopped"
    reason: str  # "target", "breakpoint", "step", "exception", "watch", "watch-scope"
    position: int
    event: int  # events consumed so far
    thread: int = 0
    depth: int = 0
    last_hit: int | None = None
    file: str | None = None
    line: int | None = None
    function: str | None = None
    watched: dict | None = None  # what a Watch found (watching.Watcher.report)
    returned: dict | None = None  # next/finish over a call: {"function", "repr", "type"} of its return value
    untraced: int = 0  # positions this run went through without the tracer (Run.untraced_to)


class Finished(Message):
    """The program has ended (or diverged); the worker still answers. The indexing pass
    adds what it gathered: the position of each event, the stretches where other threads
    ran ([from, to], to None: to the end), the markers ([position, kind, data]) and the
    line map."""

    kind = "finished"
    position: int
    event: int
    exit_status: int | None = None
    divergence: dict | None = None  # the divergence report
    uncaught: dict | None = None  # type, message, file, line
    last_hit: int | None = None
    event_positions: tuple = ()
    threaded: tuple = ()
    markers: tuple = ()
    watched: dict | None = None
    # {file: {line: [stretch, ...]}}: the stretches between events (and the indexing pass's
    # snapshots) in which each line ran
    # (csrc/linemap.c); None when the tracer keeps none or could not keep it whole
    line_map: dict | None = None
    depth_floors: tuple = ()  # [position, shallowest depth since the previous one] (Index.shallowest_between)
    stretch_breaks: tuple = ()  # [stretch, position]: a stretch that began at a snapshot (Index.stretch_span)


class Inspected(Message):
    """The answer to Inspect: the fields its ``what`` asks for are set."""

    kind = "inspected"
    frames: tuple = ()  # inspection.describe_frame dicts, innermost first
    threads: tuple = ()  # dicts: thread, name, current, and file, line, function
    children: tuple = ()  # inspection.describe_value dicts
    repr: str | None = None
    value: dict | None = None  # inspection.describe_value, with the whole repr


class Reaped(Message):
    """The worker has waited for its ended children: no zombie outlives the move."""

    kind = "reaped"


class Error(Message):
    """A request the worker could not carry out, with the one-line reason."""

    kind = "error"
    message: str
