"""`retrace-tui pids REC [--json]`: the recorded processes as a tree, root first."""
from __future__ import annotations

import json

from retrace_core.tape.process_tree import describe_process, in_tree_order
from retrace_core.tape.recording import Recording


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("pids", help="list the recorded processes as a tree, root first")
    parser.add_argument("recording", metavar="REC")
    parser.add_argument("--json", action="store_true", help="print the process list as JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    with Recording(args.recording) as recording:
        processes = recording.processes()
    if args.json:
        print(json.dumps(processes, indent=1))
        return 0
    for depth, process in in_tree_order(processes, processes[0]["pid"]):
        print("\t".join(["  " * depth + str(process["pid"]), *describe_process(process)]))
    return 0
