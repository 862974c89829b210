"""`retrace-tui install` / `uninstall`: the `.pth` hook behind ``RETRACE_RECORDING=REC``."""
from __future__ import annotations

import os
import sysconfig

from retrace_core.bootstrap.hook import PTH_LINE, PTH_NAME
from retrace_tui.errors import UsageError


def add_parser(subparsers) -> None:
    install = subparsers.add_parser(
        "install", help="record any Python process of this environment started with RETRACE_RECORDING=REC")
    install.set_defaults(run=run_install)
    uninstall = subparsers.add_parser("uninstall", help="remove the hook that `install` added")
    uninstall.set_defaults(run=run_uninstall)


def hook_path() -> str:
    return os.path.join(sysconfig.get_paths()["purelib"], PTH_NAME)


def run_install(args) -> int:
    path = hook_path()
    try:
        with open(path, "w") as handle:
            handle.write(PTH_LINE)
    except OSError as exc:
        raise UsageError(f"install: cannot write {path}: {exc.strerror or exc}") from None
    print(f"installed {path}; run any Python command with RETRACE_RECORDING=run.retrace to record it")
    return 0


def run_uninstall(args) -> int:
    path = hook_path()
    try:
        os.unlink(path)
    except FileNotFoundError:
        print(f"no hook at {path}; nothing to remove")
        return 0
    except OSError as exc:
        raise UsageError(f"uninstall: cannot remove {path}: {exc.strerror or exc}") from None
    print(f"removed {path}")
    return 0
