"""Whether a thread ran on from its lock hand-off to its next boundary call before another
thread's event: the ``RAN_ON`` record (format.py), which its replay follows (replay/turns.py).

Recording, a thread that takes or releases a lock goes on holding the interpreter, to its
next boundary call or until the interpreter switches threads. A replay passes the turn at
a hand-off, and so runs the other threads' events first; when the thread had in fact got
to its next call first (it then blocked there: a send, a write, a sleep), what it looked at
on the way ran before those events, and the replay must run it there too: execnet's
``isclosed()`` before a send, while the receiver thread's events (marking the channel
closed) were written during the send; trio's poll of a register after ``q.put(None)``.

The writer asks when another thread's event is about to follow a hand-off event: does the
hand-off's thread stand inside a boundary call (one of our wrappers on top of its stack),
called from another place of the program than the hand-off was? Asked there rather than
as each call starts, every kind of call is covered, and a call pays nothing for it.
"""
from __future__ import annotations

import os
import sys

from retrace_core.ours import HIDDEN_FOLDER

_current_frames = sys._current_frames
_BOUNDARY_CODE = HIDDEN_FOLDER + "boundary" + os.sep  # the code of our boundary calls' wrappers


def program_place(frame) -> int:
    """The program's frame below our own frames, and its last instruction: where it called us
    (0: nowhere). One int, not a tuple: a tuple the writer keeps is an object the program's
    census of live objects would count (test_found_in_real_suites.py)."""
    while frame is not None and frame.f_code.co_filename.startswith(HIDDEN_FOLDER):
        frame = frame.f_back
    return 0 if frame is None else id(frame) << 32 | frame.f_lasti


def ran_on(ident: int, handed_off_at: int) -> bool:
    """Whether thread ``ident`` stands inside a boundary call made from another place than
    its hand-off (``program_place`` then): it came to its next call. Still inside the
    hand-off's own wrapper (the interpreter switched threads right after the event was
    written), it did not."""
    frame = _current_frames().get(ident)
    if frame is None or not frame.f_code.co_filename.startswith(_BOUNDARY_CODE):
        return False
    return program_place(frame) != handed_off_at
