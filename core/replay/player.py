"""TapePlayer: answers the replayed program's boundary calls from one process's tape.

The tape is decoded as the replay goes (no event objects are built up front), so a
replay of a clock-heavy program stays faster than recording it. Each call must ask for
the function of the next event of its own thread, or it is a :class:`Divergence` (other
arguments than recorded are counted, not a divergence).

Thread turns (one thread runs at a time, in the recorded order of events) are the
:class:`~retrace_core.replay.turns.ThreadTurns` mixin.
"""
from __future__ import annotations

import _thread
from gc import disable as _gc_disable

from retrace_core.boundary.guard import bypass
from retrace_core.replay.divergence import Divergence, NotRecordedHere, make_report
from retrace_core.replay.recorded_answers import latest_answer
from retrace_core.replay.turns import ThreadTurns
from retrace_core.replay.untracked import out_of_collectors_sight
from retrace_core.tape import codec, format
from retrace_core.tape.exceptions import rebuild_exception
from retrace_core.tape.frames import decompress_frames

# Imported for annotations only, never at run time: these modules load in every recorded
# and replayed process, before the program, and import nothing they can avoid.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True

_get_ident = _thread.get_ident
_UNREAD = object()  # the next event has not been decoded yet
_COLLECT = format.COLLECT
_collect_shaped = format.collect_shaped
COLLECTION = "a garbage collection"  # a pseudo-event's function: compared with `is`; reports show it
_STATUS_MASK, _STATUS_BITS, _HAS_ARGS = format.STATUS_MASK, format.STATUS_BITS, format.HAS_ARGS
_Deferred = codec.Deferred


class TapePlayer(ThreadTurns):
    """One process's tape, read event by event: the answers to the replayed program's
    boundary calls, and the divergence report when the program asks for something else."""

    def __init__(self, data: bytes, name: str, causes: Callable[[], list[str]] = lambda: [],
                 output: Callable[[int, bytes], None] | None = None) -> None:
        stream, self.truncated = decompress_frames(data, name)
        # Decoded in one go (fast, in C); values whose type lives in a module the program may
        # not have imported yet stay Deferred until their event is taken.
        self._objects = out_of_collectors_sight(codec.unpack_all_deferred(stream))
        self._position = 0
        self._functions: dict[int, tuple[str, int]] = {}
        self._tape_thread = 0
        self._init_turns()
        self._causes = causes
        self.consumed = 0
        self.exit: dict | None = None
        self.fault: str | None = None
        self.markers: list = []
        self.listeners: list[Callable[[int, str], None]] = []
        self.divergence: Divergence | None = None
        self.first_difference: tuple | None = None  # (event, recorded call, replayed call)
        self.argument_differences = 0  # calls answered from the tape whose arguments differed
        self.address_differences = 0  # writes to stdout/stderr that differed only in object addresses
        self.header: dict = {}
        self._output = output
        # Runs a collection the recording placed (boundary/collector.py); None: the tape
        # has none, or they are passed over.
        self.collect: Callable[[int], None] | None = None
        self._next = _UNREAD
        self._read_control()  # the PROCESS header and what precedes the first event
        # Replaying a forked process: (pid, tape bytes, tape name) of each fork to follow,
        # outermost first (see forks.py), and who is told when the tape switches.
        self.follow: list[tuple[int, bytes, str]] = []
        self.switch_listeners: list[Callable[[], None]] = []

    def switch_to_forked_child(self, data: bytes, name: str) -> None:
        """In the replay of a forked process, right after the fork that started it: go on
        with its own tape, whose first event is that fork returning 0. Only the forking
        thread lives on; event numbers start again with the child's tape."""
        stream, self.truncated = decompress_frames(data, name)
        self._objects = out_of_collectors_sight(codec.unpack_all_deferred(stream))
        self._position = 0
        self._next = _UNREAD
        self.consumed = 0
        self.exit = self.fault = None
        self.markers = []
        self.first_difference, self.argument_differences = None, 0
        self._turns_after_fork()
        self._read_control()
        for listener in self.switch_listeners:
            listener()

    # -- reading the tape ---------------------------------------------------------

    def _read_event(self):
        """The next event as (thread, function, raised, arguments, value), or None at the end."""
        objects, position = self._objects, self._position
        end = len(objects)
        self.ran_on = False  # a RAN_ON record between the event taken last and this one
        while position < end:
            item = objects[position]
            if item.__class__ is int:
                function, flags = self._functions[item >> format.STATUS_BITS]
                if flags & format.HAS_ARGS:
                    if position + 2 >= end:
                        break
                    arguments, value = objects[position + 1], objects[position + 2]
                    self._position = position + 3
                    if arguments.__class__ is not float and codec.contains_deferred(arguments):
                        arguments = codec.resolve(arguments)
                else:
                    if position + 1 >= end:
                        break
                    arguments, value = None, objects[position + 1]
                    self._position = position + 2
                if value.__class__ is not float and codec.contains_deferred(value):
                    value = codec.resolve(value)
                return (self._tape_thread, function, item & format.STATUS_MASK == format.RAISED, arguments, value)
            if item[0] == _COLLECT and self.collect is not None and _collect_shaped(item):
                self._position = position + 1
                # Arguments: the other threads that stood at boundary calls (advance_to_calls).
                return (self._tape_thread, COLLECTION, False, item[2] if len(item) == 3 else None, item[1])
            self._control(item)
            position += 1
        self._position = end
        return None

    def _control(self, item: list) -> None:
        tag = item[0]
        if tag == format.DEFINE:
            self._functions[item[1]] = (item[2], item[3])
        elif tag == format.THREAD:
            self._tape_thread = item[1]
        elif tag == format.MARKER:
            self.markers.append([self.consumed, item[1], item[2]])
        elif tag == format.EXIT:
            self.exit = item[1]
        elif tag == format.FAULT:
            self.fault = item[1]
        elif tag == format.RAN_ON:
            self.ran_on = True
        elif tag == format.PROCESS:
            self.header = item[1]

    def _read_control(self) -> None:
        """Read the control records before the first event (the PROCESS header first)."""
        objects = self._objects
        while self._position < len(objects) and objects[self._position].__class__ is not int:
            self._control(objects[self._position])
            self._position += 1

    def read_end(self) -> None:
        """Read the control records after the last consumed event (the EXIT record above
        all), whether or not the replay got that far."""
        for item in self._objects[self._position:]:
            if item.__class__ is list and item and item[0] in (format.EXIT, format.FAULT):
                self._control(item)

    @property
    def next_event(self):
        """The next event, decoded now (values are decoded when asked for: an enum result
        is rebuilt only once the program has imported its module)."""
        if self._next is _UNREAD:
            self._next = self._read_event()
        return self._next

    # -- answering calls ----------------------------------------------------------

    def take(self, function: str, shown: object = None) -> tuple[bool, object, object]:
        """Consume the next event, which must be ``function``; with ``shown`` None the caller
        compares the arguments itself. Returns (raised, recorded arguments, value). The
        thread runs on; a hand-off's caller acts on the event first (takes a lock), then
        calls :meth:`pass_turn` (turns.py)."""
        if self.multithreaded:
            return self._take_threaded(function, shown)
        if self.inspecting:
            return self._take_inspecting(function, shown)
        if self.divergence is not None:
            raise self.divergence  # nothing runs on after a divergence
        event = self._next
        if event is _UNREAD:
            event = self._next = self._read_event()
        if event is None:
            self._diverge("past-end", None, (function, shown))
        thread = self._threads.get(_get_ident())
        if thread is None or event[0] != thread:
            event = self._await_own_event(thread, function, shown)
        if event[1] is COLLECTION:
            self._next = _UNREAD
            self.collect(event[4])  # its finalizers take their events, then this call its own
            return self.take(function, shown)
        if event[1] != function:
            self._diverge("call", (event[1], event[3]), (function, shown))
        # Encoded every time, as the real call took the arguments (a path's __fspath__ is the
        # program's code). Other arguments are no divergence (a stat of a module installed
        # elsewhere here) but are counted, and the first is the hint if one follows.
        if shown is not None and _normal(shown) != event[3]:
            self._differed(self.consumed + 1, event, function, shown)
        self.consumed += 1
        self._next = _UNREAD
        if self.listeners:
            for listener in self.listeners:
                listener(self.consumed, function)
        return event[2], event[3], event[4]

    # -- answering a throw-away fork that inspects a stopped replay -------------------

    inspecting = False  # set in such a fork (threads.detach_for_inspection)

    def _take_inspecting(self, function: str, shown: object) -> tuple[bool, object, object]:
        """A call made by a repr, a condition or an expression the user evaluates, in a
        throw-away fork of the stopped replay: the next event when it is this very call,
        else the latest answer to the same call before this point (the world as the
        program last saw it: a socket's address, the clock). A call the program never made
        raises :class:`NotRecordedHere`; nothing runs for real either way."""
        normal = None if shown is None else _normal(shown)
        event = self.next_event
        if event is not None and event[1] == function and (shown is None or normal == event[3]):
            self.consumed += 1
            self._next = _UNREAD
            return event[2], event[3], event[4]
        found = latest_answer(self._objects, min(self._position, len(self._objects)), self._functions,
                              function, normal, shown is None)
        if found is None:
            raise NotRecordedHere(f"{describe(function, shown)} was not made before this point of the "
                                  "recording, so it has no recorded answer")
        return found

    def answer_plain(self, function: str) -> object:
        """``answer(function, None)``, inlined for the common case (a call without recorded
        arguments that returned, in the thread whose turn it is): replaying a clock-heavy
        program must cost less than recording it."""
        objects, position = self._objects, self._position
        if position + 1 < len(objects) and self._next is _UNREAD and self.divergence is None:
            item = objects[position]
            if item.__class__ is int and not item & _STATUS_MASK:
                name, flags = self._functions[item >> _STATUS_BITS]
                value = objects[position + 1]
                if (name == function and not flags & _HAS_ARGS and value.__class__ is not _Deferred
                        and not self.multithreaded and self._threads.get(_get_ident()) == self._tape_thread):
                    self._position = position + 2
                    self.consumed += 1
                    if self.listeners:
                        for listener in self.listeners:
                            listener(self.consumed, function)
                    return value
        return self.answer(function, None)

    def answer(self, function: str, shown: object) -> object:
        """The recorded result of the call, or its recorded exception raised."""
        raised, _arguments, value = self.take(function, shown)
        if raised:
            raise rebuild_exception(value)
        return value

    @staticmethod
    def result(raised: bool, value: object) -> object:
        if raised:
            raise rebuild_exception(value)
        return value

    def output(self, fd: int, data: bytes) -> None:
        """Bytes the program wrote to fd 1 or 2 (already checked against the tape)."""
        if self._output is not None:
            self._output(fd, data)

    def finish(self, exit_status: int | None) -> None:
        """At the program's end: every event consumed, and the same exit status."""
        if self.divergence is not None:
            raise self.divergence
        if self.multithreaded:
            self._let_threads_finish()
        while self.next_event is not None and self._next[1] is COLLECTION:
            self._next = _UNREAD  # the recording ended right after placing it (killed)
        if self.next_event is not None:
            event = self._next
            self._raise(make_report("unread", self.consumed + 1, describe(event[1], event[3]), None,
                                    self._causes(), stack=[]))
        recorded = (self.exit or {}).get("exit_status")
        if self.exit is not None and recorded != exit_status:
            self._raise(make_report("exit-status", self.consumed, str(recorded), str(exit_status),
                                    self._causes(), stack=[]))

    def _take_threaded(self, function: str, shown: object) -> tuple[bool, object, object]:
        """:meth:`take` once the program has threads: wait for this thread's turn (turns.py)."""
        ident = _get_ident()
        me = self._threads.get(ident)
        collection = None
        while True:
            with self._lock:  # only the running thread decodes, but a late one may look
                if self.divergence is not None:
                    break
                event = self.next_event
                if event is None:
                    break
                if me is None and event[0] not in self._assigned and event[1] == function:
                    me = self._claim(ident, event[0])  # a thread started where we could not see
                if self.advancing is not None and self.advancing[1] == me:
                    # At its call, as when the collection was recorded: hand the turn back.
                    owner = self._turn_of = self.advancing[0]
                    self.advancing = None
                elif event[0] == me:
                    if event[1] is COLLECTION:
                        self._next = _UNREAD
                        collection, standing = event[4], event[3]
                    elif event[1] == function:
                        self.consumed += 1
                        self._next = _UNREAD
                    break
                else:
                    owner = self._turn_of = event[0]
            # Not this thread's turn: the thread whose turn it is goes first. It waits
            # holding no event (see _describe_next).
            event = None
            self._wake_thread(owner)
            if not self._park(me):
                with self._lock:
                    event = self.next_event
                self._diverge_threads("call", event and (event[1], event[3], event[0]), (function, shown, me))
        if collection is not None:
            if standing:
                self.advance_to_calls(standing)
            self.collect(collection)  # still this thread's turn: its finalizers' events are next
            return self._take_threaded(function, shown)
        if self.divergence is not None:
            self._raise_again()
        if event is None:
            if ident != self._main_ident and (self._finishing or _is_daemon()):
                # Every event is taken: a daemon thread was still in this call when the
                # program exited (a Manager's accepter in accept()), or still running.
                # The turn is no one's now: a main thread waiting for it goes on to exit.
                self._next_turn()
                self._wake_all()
                self._park_forever()
            self._diverge("past-end", None, (function, shown))
        if event[1] != function:
            self._diverge_threads("call", (event[1], event[3]), (function, shown))
        if shown is not None and _normal(shown) != event[3]:
            self._differed(self.consumed, event, function, shown)
        if self.listeners:
            for listener in self.listeners:
                listener(self.consumed, function)
        return event[2], event[3], event[4]


    # -- divergences -------------------------------------------------------------

    def diverge_held_lock(self) -> None:
        """A lock the recording acquired at this event is held by another thread in replay."""
        self._diverge_threads("lock", "the lock free, as when recorded",
                              "a lock another thread holds (the threads raced where the recording "
                              "cannot see: a data race)")

    def _diverge_threads(self, kind: str, expected, asked) -> None:
        with bypass():
            causes = self._causes()
            expected = expected if isinstance(expected, str) or expected is None else _described(expected)
            asked = asked if isinstance(asked, str) or asked is None else _described(asked)
            report = make_report(kind, self.consumed + 1, expected, asked, causes)
        self._raise(report)

    def _diverge(self, kind: str, expected: str | None, asked: str | None) -> None:
        with bypass():  # building the report reads source lines: real calls, not the program's
            causes = self._causes() + self._difference_hint()
            if kind == "past-end" and self.exit is None:
                causes = [f"the recording ends at event {self.consumed}: the recorded process did not finish "
                          f"(it was killed, or was still running when the recording was read)", *causes]
            report = make_report(kind, self.consumed + 1, _described(expected), _described(asked), causes)
        self._raise(report)

    def _differed(self, number: int, event: tuple, function: str, shown: object) -> None:
        self.argument_differences += 1
        self.first_difference = self.first_difference or (number, (event[1], event[3]), (function, shown))

    def first_difference_text(self, said: str = "") -> str | None:
        """The first call whose arguments differed, as a report says it."""
        if self.first_difference is None:
            return None
        number, recorded, replayed = self.first_difference
        return f"event {number}{said}: recorded {_described(recorded)}, replayed {_described(replayed)}"

    def _difference_hint(self) -> list[str]:
        return [self.first_difference_text(" already had other arguments")] if self.first_difference else []

    def unsupported(self, call: str, why: str) -> None:
        """The program reached a call whose I/O the recording does not hold."""
        with bypass():
            report = make_report("unsupported", self.consumed + 1, None, call,
                                 [f"{why}, which retrace does not record"])
        self._raise(report)

    def diverge_output(self, expected: bytes, written: bytes) -> None:
        with bypass():
            report = make_report("output", self.consumed, repr(expected[:200]), repr(written[:200]),
                                 self._causes() + self._difference_hint())
        self._raise(report)

    def _describe_event(self, event: tuple) -> str:
        return describe(event[1], event[3]) + f" in thread {event[0]}"

    def _raise(self, report: dict) -> None:
        if self.multithreaded and "threads" not in report:
            # Whatever went wrong, with threads a race is the likeliest cause: every
            # thread's stack shows where each one was.
            with bypass():
                report["threads"] = self.thread_stacks()
                report["likely_causes"] = [THREAD_RACE, *report.get("likely_causes", [])]
        self.divergence = Divergence(report)
        if self.collect is not None:
            # Nothing of the program runs on after a divergence; a collection would run its
            # finalizers and gc.callbacks, whose calls raise it again where the interpreter
            # only reports it (once per collection: pyrsistent sets its threshold to 1).
            _gc_disable()
        if self.multithreaded:
            self._wake_all()
            if _get_ident() != self._main_ident:
                self._park_or_report()
        raise self.divergence


THREAD_RACE = ("threads interacted other than through the recorded hand-offs (locks, queues, events, "
               "join): a data race in the program, or a synchronisation retrace does not order")


def describe(function: str, arguments: object) -> str:
    from retrace_core.tape.summary import describe as describe_call  # only when diverging

    return describe_call(function, arguments)


def _described(call: tuple | None) -> str | None:
    """(function, arguments[, thread]) as text, for a report."""
    if call is None:
        return None
    text = describe(call[0], call[1])
    return f"{text} in thread {call[2]}" if len(call) > 2 else text


def _is_daemon() -> bool:
    import threading  # imported by then: the program has threads
    return threading.current_thread().daemon


def _normal(shown: object) -> object:
    """Arguments as they come back from the tape, for comparing with the recorded ones."""
    return codec.unpackb(codec.pack_arguments(shown))
