"""The `retrace-tui` command line: a thin dispatcher over the commands package.

Errors a user can cause (bad arguments, a missing or corrupt recording) print one line
and exit 2; everything else keeps its traceback.
"""
from __future__ import annotations

import argparse
import sys

from retrace_core.tape.errors import RecordingError
from retrace_tui import __version__
from retrace_tui.errors import UsageError

COMMANDS = ("open", "record", "replay", "verify", "inspect", "events", "pids", "extract", "install", "demo", "dap")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser(only: str | None = None) -> Parser:
    """The parser; with ``only``, just that command's (start-up time matters for `record`)."""
    from importlib import import_module

    parser = Parser(prog="retrace-tui", description="Record a Python run, replay it, step backwards through it.")
    parser.add_argument("--version", action="version", version=f"retrace-tui {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS if only not in COMMANDS else (only,):
        import_module(f"retrace_tui.commands.{name}").add_parser(subparsers)
    return parser


def _normalise(argv: list[str]) -> list[str]:
    """``--recording REC -- ARGS`` / ``-o REC -- ARGS`` without a command means ``record``;
    ``REC [--pid PID] [--theme NAME]`` (a first word that is no command) means ``open``."""
    if argv and argv[0] in ("--recording", "-o") or argv and argv[0].startswith("--recording="):
        return ["record", *argv]
    first = next((word for word in argv if not word.startswith("-")), None)
    if first is not None and first not in COMMANDS and first != "uninstall" \
            and argv[0] not in ("-h", "--help", "--version"):
        return ["open", *argv]
    return argv


def main(argv: list[str] | None = None) -> int:
    argv = _normalise(list(sys.argv[1:] if argv is None else argv))
    try:
        program: list[str] | None = None
        if argv[:1] == ["record"]:
            argv, program = _split_program(argv)
        only = argv[0] if argv else None
        parser = build_parser("install" if only == "uninstall" else only)
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        if program is not None:
            args.program = program
        return args.run(args)
    except (UsageError, RecordingError) as exc:
        print(f"retrace-tui: {exc}" if not str(exc).startswith("retrace-tui") else str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `retrace-tui events REC | head`: the reader left; that is not an error.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _split_program(argv: list[str]) -> tuple[list[str], list[str]]:
    """``record`` takes everything after ``--`` as the program, untouched by argparse."""
    if "--" not in argv:
        if any(a in ("-h", "--help") for a in argv):
            return argv, []
        raise UsageError("record: put -- before the program, e.g. retrace-tui record -o run.retrace -- script.py")
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1:]


if __name__ == "__main__":
    sys.exit(main())
