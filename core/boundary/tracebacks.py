"""Tracebacks the program prints itself (``traceback.print_exc()``, ``logging.exception``)
leave out retrace's frames, as the interpreter's own printer does in launch.py. Without
this a failing boundary call would show our wrapper's frame, which is not the same
frame in recording and replay, so the replay would diverge on the printed text.

Not a boundary call: the same wrapper in both modes, applied by the same table.
"""
from __future__ import annotations

from retrace_core.ours import is_our_file


def _without_our_frames(walk):
    def walk_program_frames(*args, **kwargs):
        for item in walk(*args, **kwargs):
            if not is_our_file(item[0].f_code.co_filename):
                yield item

    walk_program_frames.__name__ = walk_program_frames.__qualname__ = walk.__name__
    walk_program_frames.__doc__ = walk.__doc__
    walk_program_frames.__wrapped__ = walk
    return walk_program_frames


class HideOurFrames:
    """The frame walk of ``traceback`` and ``logging`` without our frames (see above)."""

    @staticmethod
    def record(entry, original, channel):
        return _without_our_frames(original)

    replay = record
