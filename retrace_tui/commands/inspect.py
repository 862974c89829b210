"""`retrace-tui inspect REC [--at ...] [--json]`: the stack and locals at one point of the run.

For people in a terminal and for AI agents: it replays the recording under the engine,
goes to the point asked for, and prints where the program stood and what it held.
"""
from __future__ import annotations

import json

from retrace_tui.errors import UsageError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "inspect", help="show the stack and locals at a point of a recording",
        description="Replays REC to a point and prints the stack and the locals there.")
    parser.add_argument("recording", metavar="REC")
    parser.add_argument("--pid", type=int,
                        help="the process to inspect (default: the root; at a failure, the process "
                             "where the first failed test ran)")
    parser.add_argument("--at", metavar="WHERE",
                        help="failure (default: where the last exception was raised; the end for a "
                             "--logpoint alone in a run that did not fail), end, position:N, "
                             "event:N, or FILE:LINE (the first time that line runs)")
    parser.add_argument("--json", action="store_true", help="print the state as JSON")
    parser.add_argument("--watch", metavar="EXPR",
                        help="from there, go back to the line that last changed EXPR (in the innermost frame's call)")
    parser.add_argument("--history", metavar="EXPR", help="list each change of EXPR in the innermost frame's call")
    parser.add_argument("--origin", metavar="EXPR",
                        help="the line that last changed EXPR and the outside event its value came from")
    parser.add_argument("--logpoint", metavar="FILE:LINE:EXPR",
                        help="EXPR at every time FILE:LINE ran in the recording, as a print added after the run")
    parser.set_defaults(run=run)


def _go(session, where: str):
    kind, _, value = where.partition(":")
    if where == "failure":
        return session.goto_failure()
    if where == "end":
        return session.goto(session.index.end)
    if kind in ("position", "event") and value.isdigit():
        return session.goto(int(value)) if kind == "position" else session.goto_event(int(value))
    file, _, line = where.rpartition(":")
    if file and line.isdigit():
        from retrace_core.control.assertions import resolve_file

        session.set_breakpoint(resolve_file(session, file), int(line))
        session.goto(1)
        stop = session.continue_()
        if stop.finished:
            raise UsageError(f"inspect: {file}:{line} never runs in this recording")
        return stop
    raise UsageError(f"inspect: --at takes failure, end, position:N, event:N or FILE:LINE, not {where!r}")


def _process(recording: str, pid: int | None, where: str) -> tuple[int | None, dict | None]:
    """The process to inspect, and its entry when the recording has several."""
    from retrace_core.tape.process_tree import failing_process
    from retrace_core.tape.recording import Recording

    with Recording(recording) as opened:
        processes = opened.processes()
    if len(processes) == 1:
        return pid, None
    if pid is None:
        pid = (failing_process(processes) if where == "failure" else None) or processes[0]["pid"]
    return pid, next((process for process in processes if process["pid"] == pid), None)


def run(args) -> int:
    from retrace_core.control.session import EngineError
    from retrace_core.tape.process_tree import describe_process

    pid, process = _process(args.recording, args.pid, args.at or "failure")
    logpoint = _logpoint_argument(args.logpoint) if args.logpoint else None
    quick = args.at in (None, "failure") and not (args.watch or args.history or args.origin or logpoint)
    try:
        seen = (_first_look(args.recording, pid) if quick else None) or _indexed(args, pid, logpoint)
    except EngineError as exc:
        raise UsageError(f"inspect: {exc}") from None
    state, sources, failure, divergence = seen
    asked = state.pop("asked", {})
    state.setdefault("at", args.at or "failure")
    if divergence:
        from retrace_core.replay.divergence import format_report

        state["divergence"] = divergence
        if not args.json:
            print(f"warning: the replay diverged; the run is only inspectable before that:\n"
                  f"{format_report(divergence)}\n")
    if args.json:
        print(json.dumps(state, indent=1))
        return 0
    _print_answers(asked)
    if process is not None:
        started, ending, command = describe_process(process)
        print(f"process {state['pid']} ({started}; {ending}): {command}")
    if state["position"] is None:  # a first look: positions were not counted (first_look.py)
        print(f"event {state['event']} of {state['events']}, thread {state['thread']} ({state['reason']}; "
              f"no position: the run before the failing test was replayed without counting lines)")
    else:
        print(f"position {state['position']} of {state['end']}, event {state['event']} of {state['events']}, "
              f"thread {state['thread']} ({state['reason']})")
    if failure:
        test = f"test {failure['nodeid']} " if failure.get("nodeid") else "the program "
        print(f"{test}failed with {failure['type']}: {failure['message']}"
              + (f" at {failure['file']}:{failure['line']}" if failure["file"] else ""))
    if state["finished"]:
        print("the program has ended here; nothing is on the stack")
        return 0
    for index, frame in enumerate(state["frames"]):
        print(f"  #{index} {frame['file']}:{frame['line']} in {frame['function']}")
        lines = sources.get(frame["file"], "").splitlines()  # as recorded, not as edited since
        code = lines[frame["line"] - 1].strip() if 0 < frame["line"] <= len(lines) else ""
        if code:
            print(f"       {code}")
        for local in frame.get("locals", []):
            print(f"       {local['name']}: {local['type']} = {local['repr']}")
    return 0


def _first_look(recording: str, pid: int | None) -> tuple[dict, dict, dict, None] | None:
    """The first failed test's failing line without indexing the run (first_look.py); None
    when the tape names no such failure."""
    from retrace_core.control.first_look import open_at_failure
    from retrace_core.control.run_index import tests_from_markers

    opened = open_at_failure(recording, pid)
    if opened is None:
        return None
    session, stop, failure = opened
    with session:
        state = session.state()
        sources = _sources(session, state)
        state.update({"return_value": None, "pid": session.pid, "reason": stop.reason, "exception": failure,
                      "tests": _tests(tests_from_markers(session.tape.markers, 0))})
    return state, sources, failure, None


def _indexed(args, pid: int | None, logpoint) -> tuple[dict, dict, dict | None, dict | None]:
    """Go to ``--at`` in a session with the indexing pass run, and answer what is asked there."""
    from retrace_core.control.session import Session

    with Session(args.recording, pid) as session:
        where = args.at or _default_place(session, args)
        stop = _go(session, where)
        asked = _answers(session, stop, args, logpoint)
        stop = session.stop
        state = session.state()
        index = session.index
        sources = _sources(session, state)
    state.update(asked)
    state["asked"] = asked
    state["at"] = where
    state.setdefault("return_value", None)
    state["pid"] = session.pid
    state["reason"] = stop.reason
    failures = index.failures()
    failure = failures[0] if failures else None
    state["exception"] = failure  # the first failure: a failed test's, else the uncaught exception
    state["tests"] = _tests(index.tests)
    return state, sources, failure, index.divergence


def _default_place(session, args) -> str:
    """Without --at: the failure. A logpoint lists the runs of its line wherever the session
    stands, so asked alone of a run that did not fail, it is answered at the end."""
    if args.logpoint and not (args.watch or args.history or args.origin) and not session.index.failures():
        return "end"
    return "failure"


def _sources(session, state: dict) -> dict[str, str]:
    from retrace_core.control.assertions import source_text

    return {frame["file"]: source_text(session, frame["file"]) or "" for frame in state["frames"]}


def _tests(tests) -> list[dict]:
    return [{"nodeid": test.nodeid, "outcome": test.outcome} for test in tests]


def _logpoint_argument(text: str) -> tuple[str, int, str]:
    file, _, rest = text.partition(":")
    line, _, expression = rest.partition(":")
    if not (file and line.isdigit() and expression.strip()):
        raise UsageError(f"inspect: --logpoint takes FILE:LINE:EXPR, not {text!r}")
    return file, int(line), expression.strip()


def _answers(session, stop, args, logpoint) -> dict:
    """What --watch, --history, --origin and --logpoint ask, from the point --at went to."""
    from retrace_core.control.assertions import resolve_file

    asked: dict = {}
    here = stop.finished is False
    if (args.watch or args.history or args.origin) and not here:
        raise UsageError("inspect: --watch, --history and --origin need a point inside the run, "
                         "where a frame is live (the program has ended at this one)")
    if args.history:
        asked["history"] = session.history(args.history)
    if args.origin:
        asked["origin"] = session.origin(args.origin)
    if logpoint is not None:
        file, line, expression = logpoint
        asked["logpoint"] = session.logpoint(resolve_file(session, file), line, expression)
    if args.watch:
        session.watch(args.watch)
        moved = session.reverse_continue()
        asked["watch"] = moved.watch  # None: no change of it in this call before that point
    return asked


def _print_answers(asked: dict) -> None:
    for entry in asked.get("history", []):
        print(f"history: position {entry['position']} line {entry['line']}: {entry['value']}")
    origin = asked.get("origin")
    if origin:
        line = f"line {origin['line']} (position {origin['position']})" if origin["line"] else "not changed in this call"
        event = origin["event"]
        came = f"; came in with event {event['event']} {event['function']}" if event else ""
        print(f"origin of {origin['expression']} = {origin['value']}: {line}{came}")
    for hit in asked.get("logpoint", []):
        # A run's position is found when asked for (sightings.py): the event it came after names it.
        where = f"position {hit['position']} " if hit["position"] is not None else ""
        print(f"logpoint: {where}event {hit['event']}: {hit['value']}")
    if "watch" in asked:
        watch = asked["watch"]
        print(f"watch: {watch['expression']} changed from {watch['old']} to {watch['new']} at line {watch['line']}"
              if watch else "watch: no change in this call before that point")
