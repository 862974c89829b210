"""Opening the recording and moving through it: launch, configurationDone, the step and
continue requests (both ways), goto and gotoTargets.

A move is answered at once (DAP's response only says the request was taken) and then
run on the engine thread; where it stopped is told by a ``stopped`` event, after the
program's new output as ``output`` events. A move that ``pause`` cancels stops where
the session stood before it (`Session.cancel` kills the moving worker; a new one is
forked from a snapshot and run back to that position).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

# DAP request -> Session verb. stepBack is the reverse of next (over calls), as in gdb.
VERBS = {"continue": "continue_", "next": "next", "stepIn": "step_into", "stepOut": "finish",
         "stepBack": "back", "reverseContinue": "reverse_continue", "goto": "goto"}
STEPS = ("next", "step_into", "finish", "back")  # "just my code" goes on past library lines


@dataclass
class Then:
    """A handler's answer whose work goes on after the response is sent."""

    body: dict | None
    then: Callable[[], None]


def _argument(arguments: dict, name: str, kind: type, default=None, required: bool = False):
    from retrace_tui.dap.adapter import RequestError

    value = arguments.get(name, default)
    if value is None and required:
        raise RequestError(f"missing argument {name!r}")
    if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise RequestError(f"argument {name!r} must be {kind.__name__}, not {type(value).__name__}")
    return value


# -- launch ---------------------------------------------------------------------------------


def launch(adapter, arguments: dict) -> Then:
    """Open the recording (the indexing pass runs here, reported as progress)."""
    from retrace_core.control.assertions import recorded_sources
    from retrace_core.control.session import Session
    from retrace_tui.dap.adapter import LaunchCancelled, RequestError
    from retrace_tui.user_steps import UserSteps

    if adapter.session is not None:
        raise RequestError("a recording is already open in this debug session")
    recording = _argument(arguments, "recording", str, required=True)
    pid = _argument(arguments, "pid", int)
    _argument(arguments, "stopOnFailure", bool)
    _argument(arguments, "justMyCode", bool)
    _argument(arguments, "failure", int)
    cwd = _argument(arguments, "cwd", str)
    recording = os.path.join(cwd, recording) if cwd else recording
    try:
        pid = _process(recording, pid)
    except Exception as exc:  # a missing, foreign or corrupt recording: the one-line reason
        raise RequestError(_cannot_open(recording, exc)) from None
    adapter.begin_launch()
    reporting = bool(adapter.client.get("supportsProgressReporting"))
    shown = [-1]

    def progress(done: int, total: int) -> None:
        adapter.check_launch_cancelled()
        percent = int(100 * done / total) if total else 0
        if reporting and percent > shown[0]:
            shown[0] = percent
            adapter.event("progressUpdate", {"progressId": PROGRESS_ID, "percentage": min(percent, 100),
                                             "message": f"{done} of {total} events"})

    if reporting:
        adapter.event("progressStart", {"progressId": PROGRESS_ID, "title": "Indexing the recording",
                                        "message": os.path.basename(recording), "cancellable": True,
                                        "percentage": 0})
    try:
        adapter.check_launch_cancelled()
        session = Session(recording, pid, on_progress=progress)
    except LaunchCancelled as exc:
        raise RequestError(str(exc)) from None
    except Exception as exc:
        raise RequestError(_cannot_open(recording, exc)) from None
    finally:
        if reporting:
            adapter.event("progressEnd", {"progressId": PROGRESS_ID})
    session.on_progress = None  # later moves take snapshots too: they are no indexing
    adapter.session = session
    adapter.user_steps = UserSteps(session, recorded_sources(session),
                                   enabled=arguments.get("justMyCode", True))
    adapter.launch_arguments = {**arguments, "recording": recording}
    return Then(None, lambda: adapter.event("initialized"))


PROGRESS_ID = "retrace-index"


def _cannot_open(recording: str, error: Exception) -> str:
    from retrace_tui.dap.adapter import one_line

    reason = one_line(error)
    for prefix in ("retrace-tui: ", f"{recording}: "):
        reason = reason.removeprefix(prefix)
    return f"cannot open {recording}: {reason}"


def _process(recording: str, pid: int | None) -> int:
    """The process to debug: the one asked for, else where the first failed test ran, else the root."""
    from retrace_tui.commands.open import check
    from retrace_tui.debugger import process_to_open, processes

    check(recording, pid)
    chosen = process_to_open(recording, pid)
    return chosen if chosen is not None else processes(recording)[0]["pid"]


def configuration_done(adapter, arguments: dict) -> Then:
    """The first stop: the failure (``stopOnFailure``, the default) or the entry."""
    first = not adapter.configured
    adapter.configured = True
    if not first:
        return Then(None, lambda: None)
    session = adapter.session
    failures = session.index.failures()
    if adapter.launch_arguments.get("stopOnFailure", True) and failures:
        which = adapter.launch_arguments.get("failure", 0)
        failure = failures[which % len(failures)]
        text = f"{failure['type']}: {failure['message']}"
        where = f" in {failure['nodeid']}" if failure.get("nodeid") else ""
        return Then(None, lambda: perform(adapter, "goto_failure", which, reason="exception",
                                          description=f"{text}{where}", text=text))
    return Then(None, lambda: perform(adapter, "goto", 1, reason="entry"))


# -- moving ----------------------------------------------------------------------------------


def request(adapter, request: dict) -> None:
    """A move request: checked, answered, then run."""
    command, arguments = request["command"], request["arguments"]
    if not adapter.configured:
        adapter.fail(request, f"{command}: not stopped yet (send 'configurationDone' first)")
        return
    verb, extra = VERBS[command], ()
    if command == "goto":
        target = arguments.get("targetId")
        run = adapter.goto_targets.get(target) if isinstance(target, int) else None
        if run is None:
            adapter.fail(request, f"goto: no target {target!r} (ask gotoTargets first)")
            return
        verb, extra = "goto_run", (run,)
    adapter.respond(request, {"allThreadsContinued": True} if command == "continue" else None)
    perform(adapter, verb, *extra, reason="goto" if command == "goto" else None)


def perform(adapter, verb: str, *arguments, **how) -> None:
    """Run one verb of the session and tell the client where it stopped. The request was
    answered already: whatever goes wrong is told as an ``output`` event, never raised."""
    import sys
    import traceback

    try:
        _perform(adapter, verb, *arguments, **how)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        adapter.event("output", {"category": "important", "output": f"{verb} failed: {exc}\n"})
        session = adapter.session
        if session is not None and session.stop is not None and not adapter.ending:
            try:
                announce(adapter, session.stop, "step", f"{verb} failed: {exc}")
            except Exception:  # the session is unusable: the client can still disconnect
                traceback.print_exc(file=sys.stderr)


def _perform(adapter, verb: str, *arguments, reason: str | None = None, description: str | None = None,
             text: str | None = None) -> None:
    from retrace_core.control.session import Cancelled, EngineError

    session = adapter.session
    before = session.stop
    here, was_finished = before.position, before.finished
    hit_ids: list[int] = []
    adapter.moving(True)
    try:
        if verb in ("continue_", "reverse_continue"):
            _stop, landing = adapter.breakpoints.continue_(verb)
            if landing is not None:
                reason, hit_ids = landing.reason, landing.ids
                description, text = landing.description or description, landing.text or text
        else:
            stop = getattr(session, verb)(*arguments)
            if verb in STEPS:
                adapter.user_steps.past_library(verb, stop)
    except Cancelled:
        reason, description = "pause", "paused: back where the move started"
    except EngineError as exc:
        adapter.event("output", {"category": "important", "output": f"{verb}: {exc}\n"})
        reason, description = "step", f"{verb} failed: {exc}"
    finally:
        adapter.moving(False)
        session.end_cancel()  # a pause ends with its move, cancelled or done before it could act
    if adapter.ending:
        return  # disconnect or terminate cancelled the move: no stop to tell
    if adapter.pause_asked or session.worker is None:
        _stand_again(session, here, was_finished, reason == "pause")
    stop = session.stop
    if reason is None:
        reason, hit_ids = _reason(adapter, verb, stop)
    if description is None:
        description = _describe(session, stop, here)
    announce(adapter, stop, reason, description, text, hit_ids)


def _stand_again(session, here: int, was_finished: bool, cancelled: bool) -> None:
    """After a pause: a worker where the session stood before the move (or where the
    finished move left it, when the pause came too late to cancel anything)."""
    if cancelled:
        if was_finished:
            session.goto(session.index.end)
            session.step_into()  # from the last line on to the end of the run
            return
        session.goto(here)
    elif not session.stop.finished:
        session.goto(session.stop.position)


def _reason(adapter, verb: str, stop) -> tuple[str, list[int]]:
    if stop.reason == "watch" and stop.watch:
        return "data breakpoint", adapter.breakpoints.watch_hit(stop)
    if verb in ("continue_", "reverse_continue") and not stop.finished:
        hit = adapter.breakpoints.hit_at(stop)
        if hit:
            return "breakpoint", hit
    if verb == "goto":
        return "goto", []
    return "step", []


def _describe(session, stop, here: int) -> str:
    if stop.finished:
        status = session.index.exit_status
        return "end of the recording" + (f" (the program exited with status {status})" if status is not None else "")
    if stop.reason == "watch" and stop.watch:
        watch = stop.watch
        if watch.get("ended"):
            return f"watch {watch.get('expression')}: its call has ended, the watch is deleted"
        line = watch.get("line", stop.line)
        return f"{watch['expression']}: {watch.get('old')} → {watch.get('new')} at line {line}"
    if stop.position <= 1 and here > 1:
        return "start of the recording"
    return f"{os.path.basename(stop.file or '?')}:{stop.line} (position {stop.position})"


def announce(adapter, stop, reason: str, description: str, text: str | None = None,
             hit_ids: list[int] | None = None) -> None:
    """New output, then ``stopped``; the references of the last stop are forgotten."""
    from retrace_tui.dap.adapter import THREAD_OFFSET

    adapter.refs.reset()
    send_output(adapter, stop)
    body = {"reason": reason, "description": description, "threadId": stop.thread + THREAD_OFFSET,
            "allThreadsStopped": True, "preserveFocusHint": False}
    if text:
        body["text"] = text
    if hit_ids:
        body["hitBreakpointIds"] = hit_ids
    adapter.event("stopped", body)


def send_output(adapter, stop) -> None:
    """The program's output up to the stop that was not sent yet. Going back sends
    nothing (a console is append-only); going forward again sends that output again."""
    session = adapter.session
    chunks = session.output_until(session.index.end + 1 if stop.finished else stop.position)
    fresh = chunks[adapter.output_sent:]
    adapter.output_sent = len(chunks)
    merged: list[tuple[int, bytes]] = []
    for fd, data in fresh:
        if merged and merged[-1][0] == fd:
            merged[-1] = (fd, merged[-1][1] + data)
        else:
            merged.append((fd, data))
    for fd, data in merged:
        adapter.event("output", {"category": "stderr" if fd == 2 else "stdout",
                                 "output": data.decode("utf-8", "replace")})


# -- goto -----------------------------------------------------------------------------------


def goto_targets(adapter, arguments: dict) -> dict:
    """Every time the line ran in the recording, as a target ``goto`` can jump to."""
    from retrace_tui.dap.breakpoints import source_path

    source = _argument(arguments, "source", dict, required=True)
    line = adapter.line_in(_argument(arguments, "line", int, required=True))
    file = source_path(adapter, source)
    session = adapter.session
    hits = session.logpoint(file, line, "None")
    here = session.stop.position
    adapter.goto_targets = {}
    targets = []
    for number, hit in enumerate(hits[:500], 1):
        adapter.goto_targets[number] = hit  # its position is found when it is gone to (sightings.py)
        now = " (here)" if hit["position"] is not None and hit["position"] == here else ""
        targets.append({"id": number, "line": adapter.line_out(hit["line"]),
                        "label": f"hit {number} of {len(hits)}: event {hit['event']}{now}"})
    return {"targets": targets}
