"""`retrace-tui demo`: record the quickstart's failing pytest run and show it.

Copies the quickstart project into a temporary folder (nothing is written next to the
installed package), records `python -m pytest tests -q` there, and opens the debugger
at the failing test. Without a terminal (a CI log, a pipe) it prints the failure's stack
and locals instead (`inspect --at failure`).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from retrace_tui.errors import UsageError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="record the quickstart project's failing pytest run and show it")
    parser.add_argument("--keep", metavar="DIR",
                        help="make the copy of the quickstart in DIR instead of a temporary folder")
    parser.set_defaults(run=run)


def quickstart_source() -> Path:
    """The quickstart project: beside the package in a checkout, inside it when installed."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "quickstart", package.parent / "quickstart"):
        if (candidate / "checkout").is_dir():
            return candidate
    raise UsageError("demo: the quickstart project is missing from this installation")


def run(args) -> int:
    import importlib.util

    from retrace_tui.cli import main as cli_main

    if importlib.util.find_spec("pytest") is None:
        raise UsageError("demo: the quickstart's tests need pytest: pip install pytest")
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="retrace-demo-"))
    project = folder / "quickstart"
    shutil.copytree(quickstart_source(), project, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "recordings", "*.retrace*"))
    recording = project / "recordings" / "pytest.retrace"
    print(f"Recording the quickstart's test run in {project}:", flush=True)
    print("$ retrace-tui record -o recordings/pytest.retrace -- -m pytest tests -q -p no:cacheprovider\n",
          flush=True)
    previous = os.getcwd()
    os.chdir(project)
    try:
        status = cli_main(["record", "-o", str(recording), "--", "-m", "pytest", "tests", "-q",
                           "-p", "no:cacheprovider"])
    finally:
        os.chdir(previous)
    if not recording.is_file():
        print(f"retrace-tui: demo: the recording was not written (exit status {status})", file=sys.stderr)
        return 1
    print(f"\npytest exited with {status}; the run is recorded in {recording}.", flush=True)
    if sys.stdin.isatty() and sys.stdout.isatty():
        print("Opening it at the failure (? shows the keys, q quits)…", flush=True)
        return cli_main(["open", str(recording)])
    print(f"No terminal here, so this is the failure as `retrace-tui inspect` shows it; open it with\n"
          f"    retrace-tui {recording}\n", flush=True)
    return cli_main(["inspect", str(recording), "--at", "failure"])
