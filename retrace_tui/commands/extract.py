"""`retrace-tui extract REC [DIR]`: write the recording's tape directory."""
from __future__ import annotations

import os

from retrace_core.tape import archive
from retrace_core.tape.format import tape_dir_for
from retrace_core.tape.recording import Recording
from retrace_tui.errors import UsageError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("extract", help="unpack a .retrace file into its tape directory (REC.d)")
    parser.add_argument("recording", metavar="REC")
    parser.add_argument("destination", metavar="DIR", nargs="?", help="default: REC.d")
    parser.set_defaults(run=run)


def run(args) -> int:
    if os.path.isdir(args.recording):
        raise UsageError(f"extract: {args.recording} is already a tape directory")
    Recording(args.recording).close()  # one clear line for a missing or foreign file
    destination = args.destination or tape_dir_for(args.recording)
    archive.extract(args.recording, destination)
    print(destination)
    return 0
