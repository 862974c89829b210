"""Cyclic garbage collections at moments the replay can find again.

The collector runs when the count of young container objects crosses a threshold, and
the recorder, the player and the engine all allocate in the program's process, each
differently: left alone, a collection runs at one line when recorded and at another when
replayed. A collection runs finalizers (`__del__`, `weakref.finalize`, weakref callbacks)
and `gc.callbacks`, and those make boundary calls (urllib3 closes its pooled connections,
logging takes its lock, hypothesis reads the clock): the tape then holds them where the
replay does not make them, and the replay diverges.

So the recording decides where collections run. The collector's real young threshold is
raised far above the program's (``SAFETY_FACTOR`` times), and before each event is put
on the tape, when the young count has crossed the program's threshold, the collection
the interpreter would have run by then runs there: the threshold is lowered for a moment
and one allocation lets CPython pick the generation by its own rules (3.12+ runs it at
the next function call). A ``COLLECT`` record goes on the tape before the events its
finalizers make. The replay disables automatic collection and runs ``gc.collect(gen)``
when the thread that made the collection reaches that record: the same finalizers run
before the same event, in the same thread.

With threads, a collection finds the garbage every thread has made so far, and the
replay runs the threads between their events one at a time: a thread that was half-way
between two events when another placed a collection has not got there in the replay. So
a collection is placed only while every other thread stands inside a boundary call (blocked
in a lock, a join, a sleep, a read: a frame of ours on its stack), where the replay can
stop it too. A replayed thread waits for its turn right after taking its event, inside
the call: one recorded after writing its event already stands there; one whose event is
not written yet is named in the record, and the replay lets it run on to that call before
collecting. While another thread runs the program's code (or is half-way through writing
an event), the due collection waits for a later event (of any thread); after
``POSTPONE_LIMIT`` times the threshold it is placed anyway, where the replay may find
other garbage (docs/recording.md).

Collections the program asks for (``gc.collect()``) run at the same line in both runs
and need no record. Collections that still happen on their own (the safety net: a
program that allocates ``SAFETY_FACTOR`` times the threshold without a boundary call)
run where they run: the boundary calls of ``gc.callbacks`` in them are kept off the tape
and those of their finalizers are taped where they happen, so a replay that needs either
reports a divergence.

The program sees its own settings: ``gc.get_threshold()`` and ``gc.set_threshold()``
speak of the program's threshold. ``gc.disable()`` turns the collector off in both runs,
so no collection is due while it is off."""
from __future__ import annotations

import gc
import os
import sys

from retrace_core.bootstrap.hidden_code import private_copy
from retrace_core.boundary import gc_guard, wrappers
from retrace_core.boundary.thread_idents import real_current_frames

SAFETY_FACTOR = 100
POSTPONE_LIMIT = 50  # a due collection waits for the other threads up to this many thresholds
DEFAULT_YOUNG = 700  # CPython's young threshold before 3.13 (3.13: 2,000)
HEADER_KEY = "collections"  # PROCESS header: "scheduled" when the tape holds COLLECT records
SCHEDULED = "scheduled"

_get_count, _get_threshold, _set_threshold = gc.get_count, gc.get_threshold, gc.set_threshold
# Ours: the program's tracer sees what the collector runs of it (bootstrap/hidden_code.py).
dis = private_copy("dis")
_isenabled, _enable, _disable, _collect = gc.isenabled, gc.enable, gc.disable, gc.collect
NEVER = sys.maxsize


class _Trigger:
    """An allocation the collector counts (lists and dicts come from free lists, which it
    does not count)."""

    __slots__ = ()


def _next_call() -> None:
    """3.12+ run a collection the allocation scheduled at the next function call: this."""


class _ProgramThresholds:
    """The collector's real young threshold is ``safety`` times the program's;
    ``gc.get_threshold()`` and ``gc.set_threshold()`` speak of the program's. A
    collection that starts while ``placing`` is False and the young count is over the
    real threshold is the safety net's: the boundary calls of ``gc.callbacks`` in it stay
    off the tape (and, replayed, are not asked of it)."""

    safety = SAFETY_FACTOR

    def __init__(self) -> None:
        self.program = _get_threshold()
        self.placing = False

    def install_thresholds(self) -> None:
        gc_guard.placement.placed = True
        self._apply(self.program)
        gc.get_threshold = wrappers.module_function(self.get_threshold, _get_threshold)
        gc.set_threshold = wrappers.module_function(self.set_threshold, _set_threshold)
        gc_guard.add_ours(self._on_collection)

    def _apply(self, program: tuple) -> None:
        self.program = program
        self.real = (self._net(program[0]), *program[1:])
        _set_threshold(*self.real)

    def _net(self, young: int) -> int:
        # Never under the default's: a program that sets its threshold to 1 (pyrsistent,
        # to fail fast) would have the net close under every placed collection, where
        # the few objects the player allocates more than the recorder decide.
        return max(young, DEFAULT_YOUNG) * self.safety if young else 0

    def _on_collection(self, phase: str, info: dict) -> None:
        if phase == "start":
            gc_guard.placement.unplaced_now = not self.placing and self.unplaced()
        else:
            gc_guard.placement.unplaced_now = False

    def get_threshold(self) -> tuple:
        return self.program

    def set_threshold(self, *thresholds) -> None:
        # Never the program's own value for a moment, and never below the young count
        # there is now: else the next allocation (ours, here) would start a collection
        # that neither run places. The next placed collection sets the real one again.
        if not thresholds or type(thresholds[0]) is not int:
            _set_threshold(*thresholds)  # the built-in's own argument errors
        enabled = _isenabled()
        _disable()
        try:
            young = thresholds[0]
            _set_threshold(self._net(young), *thresholds[1:])  # and its checks
            older = _get_threshold()[1:]
            self._apply((young, *older))
            if young:
                _set_threshold(self.real[0] + _get_count()[0], *older)
        finally:
            if enabled:
                _enable()

    def unplaced(self) -> bool:
        """In a collection that is starting, not placed by us: one the collector started
        on its own (the safety net), or the program's own ``gc.collect()``?"""
        young = _get_threshold()[0]
        return _get_count()[0] > young > 0


class RecordedCollections(_ProgramThresholds):
    """The recording side: the collection that is due runs before an event is taped,
    and is taped."""

    def __init__(self, tape) -> None:
        super().__init__()
        self.tape = tape
        self.standing: list[int] = []  # of the collection being placed: see standing_threads

    def install(self) -> None:
        self.install_thresholds()

    def _apply(self, program: tuple) -> None:
        super()._apply(program)
        # Below this young count nothing is due; 0 (the program turned thresholds off): never.
        self.tape.collect_over = program[0] or NEVER
        self.tape.collector = self.collect_now

    def collect_now(self) -> bool:
        """The collection that is due, here (the tape calls this before an event); False
        when it waits for the other threads to stand at calls."""
        if not _isenabled():
            return True
        self.standing = standing_threads(self.tape.other_threads())
        if self.standing is None:
            if _get_count()[0] < self.program[0] * POSTPONE_LIMIT:
                return False
            self.standing = []  # placed anyway: the replay does not move the other threads
        self.placing = True
        _set_threshold(*self.program)
        try:
            _Trigger()
            _next_call()
        finally:
            # Before anything allocates: with the program's threshold (1, say) any
            # allocation here would start another collection, one the tape would not place.
            _set_threshold(*self.real)
            self.placing = False
        return True

    def _on_collection(self, phase: str, info: dict) -> None:
        if phase == "start" and self.placing:
            self.tape.collected(info["generation"], self.standing)
        super()._on_collection(phase, info)


_BOUNDARY = os.path.dirname(os.path.abspath(__file__)) + os.sep
_TAPE = os.path.join(os.path.dirname(os.path.dirname(_BOUNDARY)), "tape") + os.sep
# Spelled both ways: our code objects carry hidden names in a recorded process (ours.hidden_name).
_BOUNDARY = (_BOUNDARY, "<retrace>" + os.sep + "boundary" + os.sep)
_TAPE = (_TAPE, "<retrace>" + os.sep + "tape" + os.sep)
_NOT_A_CALL = frozenset({"run_as"})  # threads.py's bottom frame of every thread the program starts
# The calls that write an event, by the name the wrappers call them by: the tape's methods,
# threads.py's bound ``returned``, recorded_call.record, and the plain wrapper an outer one
# calls (written_code.py's ``wrapped``). Those two last write inside.
_WRITES = frozenset({"returned", "raised", "returned_with_arguments", "record", "wrapped"})
_CALLS = frozenset({"CALL", "CALL_KW", "CALL_FUNCTION_EX"})
_ENDS = frozenset({"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE", "JUMP_FORWARD",
                   "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP", "JUMP_NO_INTERRUPT"})
_before_writes: dict = {}  # a boundary call's code -> (offsets before its event is written, the write calls)

BEHIND = "behind"  # a thread's last event is written and it has not left that call: placeable, not moved
AT_CALL = "at call"  # it stands at a call whose event is not written yet: the replay moves it there


def standing_threads(others: dict[int, int]) -> list[int] | None:
    """The logical ids of the threads of ``others`` (OS ident -> logical) that stand at a
    boundary call before its event, when every one stands at a call (before or after its
    event) or runs no Python code; None when one runs the program's code or is half-way
    through writing an event."""
    if not others:
        return []
    frames = real_current_frames()
    standing = []
    for ident, logical in others.items():
        frame = frames.get(ident)
        if frame is None:
            continue  # ending: no code of the program's left to run
        where = _where(frame)
        if where is None:
            return None
        if where is AT_CALL:
            standing.append(logical)
    return sorted(standing)


def _where(frame) -> str | None:
    """Where a thread stands, from its stack: :data:`BEHIND`, :data:`AT_CALL`, or None.

    A replayed thread waits for its turn right after taking its event, inside the call. So
    a recorded thread still inside the call whose event it wrote stands where its replay
    will be standing: the collection needs nothing of it. A thread inside a call whose
    event is not written yet is one event behind where its replay waits: the replay lets
    it run on to that call first (what runs above the call's wrapper is the call's own
    insides, ``Thread.join``'s Python code say, which the replay answers from the tape).
    A thread inside the tape's writer may or may not have appended its event yet: no
    telling, so the collection waits for another event."""
    at_call = in_writer = False
    while frame is not None:
        code = frame.f_code
        known = _before_writes.get(code)
        if known is None:
            known = _before_writes[code] = _writes_of(code)
        if known is _WRITER:
            in_writer = True
        elif known is not _PROGRAM:
            before, calls, instruction_at = known
            lasti = instruction_at.get(frame.f_lasti, -1)
            if lasti not in before:
                return BEHIND
            at_call = at_call or lasti not in calls
        frame = frame.f_back
    if in_writer:
        return None
    return AT_CALL if at_call else None


_WRITER, _PROGRAM = "writer", "program"


def _writes_of(code):
    filename = code.co_filename
    if filename.startswith(_TAPE):
        return _WRITER
    if not filename.startswith(_BOUNDARY) or code.co_name in _NOT_A_CALL:
        return _PROGRAM
    return _before_any_write(code)


def _before_any_write(code) -> tuple[frozenset, frozenset, dict]:
    """The offsets of ``code`` that run before any of its event-writing calls has
    returned (those calls' own offsets included: a frame stands at one while inside it),
    those calls' offsets, and the instruction each code unit belongs to (``f_lasti`` can
    point into an instruction's inline caches: 3.11 and 3.12, in a call). Found along the
    code's jumps, from its start and from each exception handler (an exception comes from
    before the write: the call itself)."""
    instructions = list(dis.get_instructions(code))
    at = {instruction.offset: index for index, instruction in enumerate(instructions)}
    ends = [instruction.offset for instruction in instructions[1:]] + [len(code.co_code)]
    instruction_at = {unit: instruction.offset for instruction, end in zip(instructions, ends)
                      for unit in range(instruction.offset, end, 2)}
    calls = set()
    for index, instruction in enumerate(instructions):
        if instruction.argval in _WRITES and instruction.opname.startswith("LOAD"):
            start = instruction.positions[:1] + instruction.positions[2:3]
            for later in instructions[index + 1:]:
                if later.opname in _CALLS and later.positions[:1] + later.positions[2:3] == start:
                    calls.add(later.offset)
                    break
    starts = [0] + [entry.target for entry in dis.Bytecode(code).exception_entries]
    before, waiting = set(), [at[offset] for offset in starts if offset in at]
    while waiting:
        index = waiting.pop()
        instruction = instructions[index]
        if instruction.offset in before:
            continue
        before.add(instruction.offset)
        if instruction.offset in calls:
            continue  # what follows a write runs after it
        target = _jump_target(instruction)
        if target is not None and target in at:
            waiting.append(at[target])
        if instruction.opname not in _ENDS and index + 1 < len(instructions):
            waiting.append(index + 1)
    return frozenset(before), frozenset(calls), instruction_at


def _jump_target(instruction) -> int | None:
    if instruction.opcode in dis.hasjrel or instruction.opcode in dis.hasjabs:
        return instruction.argval
    return None


class ReplayedCollections(_ProgramThresholds):
    """The replay side: the taped collections run where the player meets their records.

    The player, the engine and its tracer allocate in the program's process too, so a
    safety net as low as the recording's would start collections the recording did not
    have (a program that sets its threshold to 1 gets one every hundred allocations):
    its net is four times higher. Garbage still gets collected in a program that allocates
    without boundary calls; what such a collection's finalizers ask of the tape is a
    divergence, reported as any other."""

    safety = SAFETY_FACTOR * 4

    def install(self, player) -> None:
        self.install_thresholds()
        player.collect = self.collect

    def collect(self, generation: int) -> None:
        self.placing = True
        try:
            _collect(generation)
        finally:
            self.placing = False


def scheduled(header: dict) -> bool:
    """Was this process recorded with its collections on the tape?"""
    return header.get(HEADER_KEY) == SCHEDULED

