"""The replay side of specials whose replay is not built yet (sockets).

Their events already carry what a replay needs; until the replay wrappers exist, such a
call in a replay stops it with one divergence report that says so, rather than
touching the world or answering wrongly. Under the guard (retrace's own work) the real
call runs, as everywhere else.
"""
from __future__ import annotations

from retrace_core.boundary.guard import bypass, guard


def not_replayed(entry, original, player):
    """A plain function in place of ``original`` that diverges when the program calls it."""
    name = entry.qualified_name

    def unreplayed(*args, **kwargs):
        if guard.busy:
            return original(*args, **kwargs)
        from retrace_core.replay.divergence import Divergence, make_report
        from retrace_core.tape.summary import describe

        with bypass():  # the report reads source lines for its stack: not the program's calls
            upcoming = player.next_event
            expected = describe(upcoming[1], upcoming[3]) if upcoming is not None else None
            divergence = Divergence(make_report("call", player.consumed + 1, expected, f"{name}(...)",
                                                [f"replaying {name} is not built yet: it is only recorded"]))
        player.divergence = divergence  # nothing runs on, even if the program catches it
        raise divergence

    unreplayed.__name__ = unreplayed.__qualname__ = entry.name.rpartition(".")[2]
    unreplayed.__wrapped__ = original
    return unreplayed
