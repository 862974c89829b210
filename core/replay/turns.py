"""ThreadTurns: which of the replayed program's threads may run, and the thread map.

Once the program has started a thread, one thread runs at a time. After a hand-off
event (a lock taken or released, a thread started or joined, a shared flag read) a thread
*passes the turn*: if the next event on the tape is another thread's, it wakes that
thread and parks until its own turn comes (or the tape ends). After any other call (a
sleep, a read, a clock) it runs on to its next call and waits for its turn there, as it
ran on holding the interpreter lock when recorded: a thread that polls a status between
two sleeps looks at it before the other threads' next events, as recorded. So threads
run, between their events, in the recorded order of those events, and a replay counts the
same lines in the same order every time. A thread that comes to no call for
:data:`HANDOVER_GRACE` seconds (it spins on a flag another thread sets) lets the thread
whose event is next run beside it. A thread that does not reach its next event in time
(a data race the tape cannot see sent it elsewhere) is a divergence, reported with every
thread's stack: never a hang.

A mixin of :class:`~retrace_core.replay.player.TapePlayer` (it reads the player's next
event and reports through its divergence methods); kept apart because scheduling threads
is its own concern, and the hot single-threaded path must not pay for it.
"""
from __future__ import annotations

import _thread
import posix
import time
from os import environ as _environ

from retrace_core.boundary.thread_idents import real_current_frames
from retrace_core.ours import TURN_TIMEOUT as TURN_TIMEOUT_VARIABLE
from retrace_core.replay.divergence import frames_of
from retrace_core.replay.stuck import TICKS_PER_SECOND, cpu_ticks

# Imported for annotations only, never at run time: these modules load in every recorded
# and replayed process, before the program, and import nothing they can avoid.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_get_ident = _thread.get_ident
_allocate_lock = _thread.allocate_lock  # taken before patching: our locks make no events
_monotonic = time.monotonic  # taken before patching: the replay's own clock, not the tape's
_get_native_id = _thread.get_native_id
_getpid = posix.getpid  # the process's real one (os.getpid answers from the tape)
TURN_TIMEOUT = 20.0  # seconds without any event taken before a waiting thread calls it a divergence
# ... unless the thread whose turn it is worked meanwhile: one that used the CPU for this
# share of the timeout computes between two events (longer than the timeout under the
# engine's tracer, or on a loaded machine), and the wait goes on; up to this many timeouts
# without an event, after which even a working thread is reported (a race sent it into a
# loop it never leaves).
WORKING_SHARE = 0.1
WORKING_LIMIT = 30
WORKING_PROBE = 1.0  # seconds between the first two readings of its CPU time
PARK_POLL = 0.05  # a parked thread looks again this often, in case a wake-up was missed
# A thread waiting after its own event gives up waiting once the thread whose turn it is
# has not moved for this long: it may be blocked on a lock inside C that the waiting
# thread holds (a BufferedWriter's, when both close one file), which no event shows.
STUCK_OWNER = 0.3
# A thread that runs on after its event to its next boundary call hands the turn over
# there. One that has not come to a call this long after the last event (it spins on a
# flag, or works long) lets the thread whose event is next run beside it, as the
# interpreter switched threads every few milliseconds when recorded. Long, because two
# threads running at once may interleave otherwise than recorded.
HANDOVER_GRACE = 2.0


class ThreadTurns:
    """The thread map (OS thread ident -> logical thread of the tape) and the turns."""

    def _init_turns(self) -> None:
        self._threads: dict[int, int] = {_get_ident(): 0}  # OS thread -> logical thread
        self._natives: dict[int, int] = {}  # logical thread -> kernel thread id (not the main one's)
        self._assigned = {0}  # logical threads ever given to a replayed thread
        self._thread_local = _thread._local()
        self._sleep = _allocate_lock()  # held by no one: acquire(timeout) is a sleep no patch touches
        self._main_ident = _get_ident()
        self.multithreaded = False  # set when the program starts a thread (threads.py)
        # Logical threads started and not yet ended, as of their events (with threading's
        # Thread when there is one): a thread exists from its start event on, before its
        # OS thread runs, and until its end event, while its OS thread may still exit.
        self.live: dict[int, object] = {}
        # The debugger has stopped the program (engine.py): no thread is late for its turn.
        self.paused = False
        self._lock = _allocate_lock()  # decoding and consuming, once threads exist
        self._turn_of: int | None = None  # the logical thread that may run; None: any
        self._wake: dict[int, object] = {}  # logical thread -> the lock it parks on
        self._finishing = False
        # (thread that waits, thread that runs on to its next call): see advance_to_calls.
        self.advancing: tuple[int | None, int] | None = None
        self.turn_timeout = float(_environ.get(TURN_TIMEOUT_VARIABLE) or TURN_TIMEOUT)
        self.thread_hooks: list[Callable[[], None]] = []  # run in each new thread first
        self.ran_on = False  # see after_handoff (set by the player as it reads the tape)

    def _turns_after_fork(self) -> None:
        """In a forked child: only the forking thread lives on, and no lock is held."""
        ident = _get_ident()
        self._threads = {ident: self._threads.get(ident, 0)}
        self._main_ident = ident
        self._lock = _allocate_lock()  # another thread may have held it at the fork
        self._turn_of = None
        self._wake = {}

    # -- the thread map -----------------------------------------------------------

    def thread_of(self, ident: int) -> int | None:
        """The logical thread (as numbered on the tape) that OS thread ``ident`` replays."""
        return self._threads.get(ident)

    def ident_of(self, logical: int) -> int | None:
        """The OS thread replaying logical thread ``logical``, or None when none does (yet)."""
        return next((ident for ident, number in self._threads.items() if number == logical), None)

    def thread_map(self) -> dict[int, int]:
        """A copy of the map, OS thread ident -> logical thread."""
        return dict(self._threads)

    def restore_thread_map(self, saved: dict[int, int]) -> None:
        """Put back entries of a :meth:`thread_map` copy: in a fork, the other threads'
        locals are freed, and with them their entries (see :class:`_ThreadEnd`)."""
        self._threads.update(saved)

    def _claim(self, ident: int, logical: int) -> int:
        """In the thread itself: it is ``logical``."""
        self._threads[ident] = logical
        self._natives[logical] = _get_native_id()
        self._assigned.add(logical)
        self._thread_local.end = _ThreadEnd(self._threads, ident)
        return logical

    # -- turns --------------------------------------------------------------------

    def _next_turn(self):
        """The next event and the logical thread whose turn it is (None at the end), which
        from now on is the only one that may run."""
        with self._lock:
            event = self.next_event
            owner = self._turn_of = None if event is None else event[0]
        return event, owner

    def _await_own_event(self, thread, function, shown):
        """Before threads are ordered: poll until the next event is ``thread``'s (a thread
        without a number takes it when the event is a new thread's first call to ``function``)."""
        deadline = _monotonic() + TURN_TIMEOUT
        while True:
            event = self.next_event
            if event is None:
                self._diverge("past-end", None, (function, shown))
            if thread is None and event[0] not in self._assigned and event[1] == function:
                thread = self._claim(_get_ident(), event[0])  # a new thread's first call
            if event[0] == thread:
                return event
            if _monotonic() > deadline:
                self._diverge("call", (event[1], event[3], event[0]), (function, shown, thread))
            self._sleep.acquire(timeout=0.001)

    def pass_turn(self) -> None:
        """After this thread's hand-off event (a lock taken or released, a thread started
        or joined, a shared flag read): let the thread whose event is next run, and wait
        for this thread's turn to come again (or the tape to end)."""
        self.wait_for_turn(after_event=True)

    def after_handoff(self) -> None:
        """After this thread's lock hand-off event: run on to its next call when the
        recording says it got there before any other thread's event (``RAN_ON``), as it
        ran on holding the interpreter lock; else :meth:`pass_turn`."""
        if self.multithreaded:
            with self._lock:
                self.next_event  # reads the records up to the next event
                ran_on, self.ran_on = self.ran_on, False
            if ran_on:
                return
        self.wait_for_turn(after_event=True)

    def wait_for_turn(self, after_event: bool = False) -> None:
        """Wait until the next event on the tape is this thread's (or the tape ends).
        Called before this thread enters code that holds a lock inside C around its
        boundary calls (a BufferedWriter's): it must not wait for its turn in there."""
        if not self.multithreaded:
            return
        me = self._threads.get(_get_ident())
        owner = self._next_turn()[1]
        if owner is None or owner == me or me is None:
            return
        self._wake_thread(owner)
        if not self._park(me, after_event=after_event):
            self._diverge_threads("stalled", self._describe_next(), None)

    def advance_to_calls(self, threads: list[int]) -> None:
        """Before a collection the recording placed while ``threads`` stood at boundary
        calls (boundary/collector.py): each of them runs on to its next call and waits
        there, as when recorded, so that the collection finds the same garbage. In a fixed
        order, one at a time: every replay runs the same lines in the same order."""
        me = self._threads.get(_get_ident())
        for logical in threads:
            if logical == me or (logical and logical not in self.live) or self.divergence is not None:
                continue  # ended since
            with self._lock:
                self._turn_of, self.advancing = logical, (me, logical)
            self._wake_thread(logical)
            # It hands the turn back at its call, even when its event is next (one of its
            # own may have come right after the collection's record). One stuck on a lock
            # inside C that this thread holds is left where it is.
            self._park(me, after_event=True)
            with self._lock:
                self._turn_of, self.advancing = me, None

    def adopt_thread(self, logical: int) -> None:
        """First thing in a thread the program started: it is ``logical``, and waits for
        its turn."""
        self._claim(_get_ident(), logical)
        for hook in self.thread_hooks:
            hook()
        with self._lock:
            running = self._turn_of
            self.next_event  # reads the records up to the next event
        if running is None or running == logical:
            running = self._next_turn()[1]
        # else another thread has the turn: the one that started this thread may be running
        # on to its next call (RAN_ON). Claiming the turn by the next event here would run
        # both at once, their lines interleaved as the OS pleases.
        if running not in (None, logical) and not self._park(logical):
            self._diverge_threads("stalled", self._describe_next(), None)

    def thread_ended(self, function: str) -> None:
        """Last thing in a thread the program started: its end event, then the next turn."""
        if self.divergence is not None:
            self._park_or_report()
            return
        self.take(function)
        logical = self._threads.get(_get_ident())
        self.live.pop(logical, None)
        # its lock goes with it: a program that counts its objects (greenlet's leak checks,
        # objgraph) saw one more lock per thread it had run, where the recording saw none
        self._wake.pop(logical, None)
        _event, owner = self._next_turn()
        if owner is not None:
            self._wake_thread(owner)

    def _let_threads_finish(self) -> None:
        """The main thread is done: the other threads take their remaining events."""
        self._finishing = True
        me = self._threads.get(_get_ident())
        while True:
            owner = self._next_turn()[1]
            if owner is None or owner == me:
                return  # the end, or an event of ours that the program never asked for
            self._wake_thread(owner)
            if not self._park(me):
                self._diverge_threads("stalled", self._describe_next(), None)

    def _park(self, me: int | None, after_event: bool = False) -> bool:
        """Wait until it is ``me``'s turn, the tape has ended or the replay diverged.
        False once no thread has taken an event for ``turn_timeout`` seconds.
        ``after_event``: waiting right after an event of ``me``'s, where the thread may
        still hold a lock inside C; then it stops waiting when the owner is stuck."""
        wake = self._wake.get(me)
        if wake is None:
            wake = self._wake[me] = _allocate_lock()
            wake.acquire()
        consumed, deadline = self.consumed, _monotonic() + self.turn_timeout
        stuck_check, owner_at = _monotonic() + STUCK_OWNER, None
        handover = _monotonic() + HANDOVER_GRACE
        working, give_up = None, deadline + self.turn_timeout * (WORKING_LIMIT - 1)
        while self._turn_of is not None and self._turn_of != me and self.divergence is None:
            now = _monotonic()
            if self.consumed != consumed or self.paused:
                # The replay moves on, or the thread whose turn it is stands at a
                # breakpoint: wait as long again.
                consumed, deadline = self.consumed, now + self.turn_timeout
                stuck_check, owner_at = now + STUCK_OWNER, None
                handover = now + HANDOVER_GRACE
                working, give_up = None, deadline + self.turn_timeout * (WORKING_LIMIT - 1)
            left = deadline - now
            if left <= 0:
                # Did the thread whose turn it is work meanwhile? Read off the hot path: only
                # here, then once more a probe's length later (or a timeout's, once it did).
                used = self._owner_cpu()
                if used is None or now >= give_up or (working is not None and not self._worked(working, used, now)):
                    return False
                wait = WORKING_PROBE if working is None else self.turn_timeout
                deadline, working, left = now + wait, (*used, now), wait
            if (now >= handover or self._main_is_past_the_program()) and me is not None \
                    and self._take_over(me, consumed):
                return True
            if after_event and now >= stuck_check:
                where = self._where_is(self._turn_of)
                if where is not None and where == owner_at:
                    return True  # run on to this thread's next event, and wait there
                stuck_check, owner_at = now + STUCK_OWNER, where
            wake.acquire(timeout=min(left, PARK_POLL))
        if self.divergence is not None:
            self._park_or_report()
        return True

    def _owner_cpu(self) -> tuple[int, float] | None:
        """(the thread whose turn it is, the CPU seconds its kernel thread has used), or
        None where that is not known (a thread of another process before a fork)."""
        owner = self._turn_of
        # The main thread's kernel id is the pid, also in a fork (a worker started from a
        # snapshot), where an id noted when the replay started would be the parent's.
        native = _getpid() if owner == 0 else self._natives.get(owner)
        ticks = None if native is None else cpu_ticks(f"/proc/self/task/{native}/stat")
        return None if ticks is None else (owner, ticks / TICKS_PER_SECOND)

    @staticmethod
    def _worked(before: tuple[int, float, float], after: tuple[int, float], now: float) -> bool:
        """Whether the same thread's turn ran on, busy for a share of the time since ``before``."""
        owner, used, at = before
        return after[0] == owner and after[1] - used >= WORKING_SHARE * (now - at)

    def _main_is_past_the_program(self) -> bool:
        """Whether the turn is the main thread's, which has run the program's last line
        (no Python frame left: it flushes stdout at the exit, on a BufferedWriter's lock
        that the waiting thread may hold inside C, waiting for its turn)."""
        return self._turn_of == 0 and self._main_ident not in real_current_frames()

    def _take_over(self, me: int, consumed: int) -> bool:
        """The turn for ``me`` if its event is next and none was taken since ``consumed``
        (under the lock events are taken under: one taken just now, whose thread has yet
        to act on it, a lock's release, restarts the grace)."""
        with self._lock:
            event = self.next_event
            if self.consumed != consumed or event is None or event[0] != me:
                return False
            self._turn_of = me
            return True

    def _describe_next(self) -> str | None:
        """The next event, described for a report: read when the report is made. A thread
        holds no event while it waits for its turn: an object made after the program's last
        collection, which a program counting its live objects (greenlet's leak checks) would
        count in the replay only."""
        with self._lock:
            event = self.next_event
        return None if event is None else self._describe_event(event)

    def _where_is(self, logical: int):
        """Where thread ``logical`` is running (its innermost frame and instruction), or
        None when it is not a running thread of ours."""
        ident = self._main_ident if logical == 0 else self.ident_of(logical)
        frame = real_current_frames().get(ident) if ident is not None else None
        return None if frame is None else (id(frame), frame.f_lasti, frame.f_lineno)

    def _wake_thread(self, logical: int) -> None:
        wake = self._wake.get(logical)
        if wake is not None and wake.locked():
            try:
                wake.release()
            except RuntimeError:  # woken by another thread in between
                pass

    def _wake_all(self) -> None:
        for logical in list(self._wake):
            self._wake_thread(logical)

    def _park_forever(self) -> None:
        never_released = _allocate_lock()
        never_released.acquire()
        never_released.acquire()  # (two fresh locks, one taken each, did not wait at all)

    def _park_or_report(self) -> None:
        """After a divergence: the main thread raises it; another thread parks for good,
        so that it prints nothing of its own (the main thread reports)."""
        if _get_ident() == self._main_ident:
            raise self.divergence
        self._park_forever()

    def _raise_again(self) -> None:
        self._park_or_report()
        raise self.divergence

    def thread_stacks(self) -> list[dict]:
        """Every thread of the program with its stack (program frames), main first."""
        stacks = []
        for ident, frame in real_current_frames().items():
            logical = 0 if ident == self._main_ident else self._threads.get(ident)
            if logical is None:
                continue
            stacks.append({"thread": logical, "stack": frames_of(frame)})
        return sorted(stacks, key=lambda entry: entry["thread"])


class _ThreadEnd:
    """Kept in a thread-local: forgets the OS thread's ident when the thread ends (idents are reused)."""

    __slots__ = ("threads", "ident")

    def __init__(self, threads, ident):
        self.threads, self.ident = threads, ident

    def __del__(self):
        self.threads.pop(self.ident, None)
