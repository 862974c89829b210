"""The one shape of a recorded call, for wrappers that cannot use the generic one.

``record(headers, tape, function, arguments, shown)`` runs ``function()`` under the
guard and writes one event: ``shown`` is what the tape keeps of the arguments, and
``keep(result)`` what it keeps of the result. ``after()``, when given, runs right after
``function()`` returns or raises, before the event is written (tls.py writes what the
call did to its memory BIOs there).
"""
from __future__ import annotations

from retrace_core.boundary.guard import guard

# Imported for annotations only, never at run time: these modules load in every recorded
# and replayed process, before the program, and import nothing they can avoid.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# pytest leaves frames of modules with this global out of its tracebacks: a failing
# boundary call reads as the program's own call, as it does unrecorded.
__tracebackhide__ = True


def record(headers, tape, function: Callable[[], object], shown: object,
           keep: Callable[[object], object] | None = None, after: Callable[[], None] | None = None) -> object:
    if guard.busy:
        return function()
    guard.busy = True
    try:
        result = function()
    except BaseException as exc:
        guard.busy = False
        if after is not None:
            after()
        tape.raised(headers.raised, shown, exc)
        raise
    guard.busy = False
    if after is not None:
        after()
    try:
        kept = result if keep is None else keep(result)
    except Exception as exc:  # our bug: it must not reach the program
        tape.fault(exc)
    else:
        tape.returned_with_arguments(headers.returned, shown, kept)
    return result
