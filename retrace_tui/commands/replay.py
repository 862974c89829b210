"""`retrace-tui replay REC [--pid PID]`: run the recording again and show its output."""
from __future__ import annotations

import sys

from retrace_core.replay.runner import replay


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "replay", help="replay a recording, printing the program's output as replayed",
        description="Replays the recorded program: its own code runs again, every boundary call is "
                    "answered from the recording. Exits with the recorded exit status.")
    parser.add_argument("recording", metavar="REC")
    parser.add_argument("--pid", type=int, help="the process to replay (default: the root)")
    parser.set_defaults(run=run)


def run(args) -> int:
    sys.stdout.flush()
    result = replay(args.recording, args.pid, echo=True)
    if result.divergence is not None:
        return 1
    return result.recorded_exit_status if result.recorded_exit_status is not None else (result.exit_status or 0)
