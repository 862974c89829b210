"""`retrace-tui events REC [--pid PID] [--json]`: the boundary events, in order."""
from __future__ import annotations

import json
import sys

from retrace_core.tape.recording import Recording
from retrace_core.tape.summary import as_json, describe_call, describe_result


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("events", help="list the recorded boundary events in order")
    parser.add_argument("recording", metavar="REC")
    parser.add_argument("--pid", type=int, help="the process to list (default: the root)")
    parser.add_argument("--json", action="store_true", help="one JSON object per event, as a list")
    parser.set_defaults(run=run)


def run(args) -> int:
    with Recording(args.recording) as recording:
        tape = recording.tape(args.pid)
    if args.json:
        json.dump([as_json(event) for event in tape.events], sys.stdout, indent=1)
        print()
    else:
        width = len(str(len(tape.events)))
        for event in tape.events:
            print(f"{event.number:>{width}}  t{event.thread}  {describe_call(event)} -> {describe_result(event)}")
    if not tape.complete:
        reason = (f"recorder fault: {tape.fault}" if tape.fault else
                  "tape cut off" if tape.truncated else "process did not finish")
        print(f"retrace-tui: incomplete recording ({reason}); listed up to the last flush", file=sys.stderr)
    return 0
