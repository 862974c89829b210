"""`retrace-tui pids REC [--json]`: the recorded processes, root first."""
from __future__ import annotations

import json
import shlex

from retrace_core.tape.recording import Recording


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("pids", help="list the recorded processes, root first")
    parser.add_argument("recording", metavar="REC")
    parser.add_argument("--json", action="store_true", help="print the process list as JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    with Recording(args.recording) as recording:
        listed = {p["pid"]: p for p in recording.index.get("processes", [])}
        processes = [listed.get(pid, {"pid": pid, "parent": None, "argv": None, "exit_status": None,
                                      "complete": False}) for pid in recording.pids()]
    if args.json:
        print(json.dumps(processes, indent=1))
        return 0
    for process in processes:
        status = process.get("exit_status")
        ending = f"exit {status}" if status is not None else "incomplete"
        command = shlex.join(process.get("program") or process.get("argv") or [])
        print(f"{process['pid']}\t{ending}\t{command}")
    return 0
