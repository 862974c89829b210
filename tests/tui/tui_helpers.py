"""Helpers for driving the real app over real recordings (no pytest async plugin: each
test runs its Pilot script with asyncio.run)."""
from __future__ import annotations

import asyncio
import atexit
import glob
import os
import shutil
import tempfile
import time
from pathlib import Path

# What the debugger remembers between sessions (retrace_tui/state.py) goes to a folder of
# this test run's, never the user's own state folder (and `drive` gives each app its own).
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="retrace-tui-state-")
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], ignore_errors=True)


QUICKSTART = Path(__file__).resolve().parents[2] / "quickstart"
FAILING_LINE = "    assert receipt.total == expected_total"


def failing_line_number(recording: Path) -> int:
    lines = (recording.parent / "tests" / "test_receipt.py").read_text().splitlines()
    return lines.index(FAILING_LINE) + 1


def drive(app, script, size: tuple[int, int] = (120, 40), state_home: str | Path | None = None,
          notifications: bool = False) -> None:
    """Run ``await script(pilot)`` against ``app`` in a headless terminal of ``size``
    (with ``notifications``, its toasts show, as they do outside tests).

    ``state_home``: the XDG state folder the app remembers breakpoints, watches... in
    (pass the same one to reopen a recording as the user left it). By default a new,
    empty one: the session's quickstart recording is shared by many tests, and a
    breakpoint one of them left would be restored in the next (where `x` on its line
    then clears it)."""

    async def main() -> None:
        async with app.run_test(size=size, notifications=notifications) as pilot:
            await script(pilot)

    previous = os.environ.get("XDG_STATE_HOME")
    with tempfile.TemporaryDirectory(prefix="retrace-tui-state-") as fresh:
        os.environ["XDG_STATE_HOME"] = str(state_home or fresh)
        try:
            asyncio.run(main())
        finally:
            if previous is not None:
                os.environ["XDG_STATE_HOME"] = previous


async def settle(pilot, timeout: float = 60.0) -> None:
    """Wait until the app has opened its recording (indexed it: not a first look's screen)
    and drawn the engine's last answer."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.02)
        if app.debugger is not None and app.view is not None and app.view.indexed and app.engine.idle():
            await pilot.pause()
            return
    raise AssertionError("the app did not settle: " + _where_it_stands(app))


def _named(call) -> str:
    code = getattr(call, "__code__", None)
    return "nothing" if call is None else f"{getattr(call, '__qualname__', call)!s}" + \
        (f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else "")


def _where_it_stands(app) -> str:
    """What a test that waited in vain needs to know: the app's state and its screen."""
    view = app.view
    opening = getattr(app, "_opening", None)
    facts = [f"screen {type(app.screen).__name__}", f"debugger {app.debugger is not None}",
             f"view {'none' if view is None else f'indexed={view.indexed} position={view.position}'}",
             f"engine idle {app.engine.idle()}", f"engine running {_named(app.engine.running)}",
             f"opening progress {opening.progress if opening is not None else None}"]
    try:
        text = screen_text(app)
    except Exception as error:  # the screen is what failed: say so instead
        text = f"(no screen: {error!r})"
    # Panels opened over the app (a divergence report, an engine error), whole: the screen
    # shows only their first lines.
    panels = [f"{screen._panel_title}:\n{screen._panel_body}" for screen in app.screen_stack
              if hasattr(screen, "_panel_body")]
    return ", ".join(facts) + "\n" + text + "".join(f"\n{panel}" for panel in panels) + _session_facts(app)


def _session_facts(app) -> str:
    """The engine's side: how the indexing pass ended (an exception the replayed program
    died of is its `uncaught`) and the end of the worker log."""
    session = getattr(app.debugger, "session", None)
    facts = ""
    if session is not None:
        index = session.index
        facts = f"\nindex: end {index.end}, exit status {index.exit_status}, uncaught {index.uncaught}"
    # Every session of this process (the indexing one is not the app's until it is done):
    # the end of its worker log, and where each of its replay processes waits.
    for folder in sorted(glob.glob(os.path.join(tempfile.gettempdir(), f"retrace-session-{os.getpid()}-*"))):
        try:
            with open(os.path.join(folder, "worker.log"), "rb") as handle:
                log = handle.read()[-3000:].decode(errors="replace")
        except OSError as error:
            log = f"(no worker log: {error})"
        facts += f"\n{folder}: worker log (end):\n{log}\nits processes: {_processes_of(folder)}"
    return facts


def _processes_of(folder: str) -> list[str]:
    """pid, state, kernel wait channel and syscall of each replay process of a session."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if folder.encode() not in handle.read():
                    continue
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rpartition(b")")[2].split()[0].decode()
            with open(f"/proc/{entry}/wchan") as handle:
                wchan = handle.read()
            with open(f"/proc/{entry}/syscall") as handle:
                syscall = handle.read().split()[0]
        except OSError:
            continue
        found.append(f"{entry} {state} {wchan} syscall {syscall}")
    return found


async def press(pilot, *keys: str) -> None:
    """Press each key and wait for its answer to be drawn."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def screen_lines(app) -> list[str]:
    """The screen as a user reads it: one string per row, text only (Textual's own
    compositor, as the terminal would get it)."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def screen_text(app) -> str:
    return "\n".join(screen_lines(app))
