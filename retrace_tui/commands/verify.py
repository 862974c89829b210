"""`retrace-tui verify REC [--pid PID] [--json]`: does the replay match the recording exactly?"""
from __future__ import annotations

import json

from retrace_core.replay.divergence import format_report
from retrace_core.replay.runner import replay


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify", help="replay headlessly; exit 0 if it matched the recording exactly, 1 if it diverged")
    parser.add_argument("recording", metavar="REC")
    parser.add_argument("--pid", type=int, help="the process to verify (default: the root)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    result = replay(args.recording, args.pid, echo=False)
    if args.json:
        print(json.dumps({"matched": result.matched, "events": result.events,
                          "exit_status": result.exit_status, "recorded_exit_status": result.recorded_exit_status,
                          "divergence": result.divergence, "notices": result.notices,
                          "incomplete": result.incomplete,
                          "bootstrap_difference": result.bootstrap_difference,
                          "address_differences": result.address_differences}, indent=1))
    else:
        for notice in result.notices:
            print(f"notice: {notice}")
        if result.matched:
            print(f"matched: {result.events} events replayed exactly, exit status {result.exit_status}")
            if result.address_differences:
                print(f"note: {result.address_differences} writes to stdout/stderr differed only in object "
                      f"addresses (0x...), which every new process has its own of")
        else:
            print(format_report(result.divergence))
    return 0 if result.matched else 1
