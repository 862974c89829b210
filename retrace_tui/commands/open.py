"""`retrace-tui REC` (or `retrace-tui open REC`): the terminal debugger.

Everything that can be wrong with the input is checked here, before a screen is
drawn: a missing or corrupt recording, a process that is not in it, a recording made by
another Python, an unknown theme — each is one line and exit 2.
"""
from __future__ import annotations

import sys

from retrace_tui.errors import UsageError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "open", help="open a recording in the terminal debugger (also: retrace-tui REC)",
        description="Step forwards and backwards through a recorded run.")
    parser.add_argument("recording", metavar="REC", help="a .retrace file or its .d folder (run.retrace -> run.d)")
    parser.add_argument("--pid", type=int,
                        help="the process to open (default: the one where the first failed test ran; "
                             "else ask when there are several)")
    parser.add_argument("--theme", metavar="NAME",
                        help="dark, light or high-contrast (default: the last one chosen, else dark)")
    parser.add_argument("--all-code", action="store_true",
                        help="start with \"just my code\" off: show library frames (pytest, pluggy, installed "
                             "packages) and let steps stop in them (J toggles it in the debugger)")
    parser.set_defaults(run=run)


def check(recording: str, pid: int | None) -> None:
    """Raise RecordingError/UsageError for input the debugger cannot open."""
    from retrace_core.replay.runner import check_python_version
    from retrace_core.tape.recording import Recording

    with Recording(recording) as opened:
        tape = opened.tape(pid)  # a pid that is not there, a tape that is unreadable
        check_python_version(tape.process.get("python_minor") or opened.index.get("python_minor"), recording)


def run(args) -> int:
    from retrace_tui import theming

    check(args.recording, args.pid)
    theme = theming.resolve(args.theme, theming.load_themes())
    if args.theme:
        theming.save_theme(theme.short_name)  # remembered, as a choice in the app is
    if not sys.stdout.isatty():
        raise UsageError("open: the debugger needs a terminal; for a script or an agent use "
                         "`retrace-tui inspect REC --json`")
    from retrace_tui.debugger import process_to_open
    from retrace_tui.opening import Opening

    pid = process_to_open(args.recording, args.pid)  # None: the app asks which one
    # Start the indexing pass now: it runs while the UI is imported and starts.
    opening = Opening(args.recording, pid, args.all_code) if pid is not None else None
    from retrace_tui.app import RetraceApp

    app = RetraceApp(args.recording, pid, theme.short_name, opening, all_code=args.all_code)
    app.run()
    return app.return_code or 0
