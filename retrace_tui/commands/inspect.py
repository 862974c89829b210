"""`retrace-tui inspect REC [--at ...] [--json]`: the stack and locals at one point of the run.

For people in a terminal and for AI agents: it replays the recording under the engine,
goes to the point asked for, and prints where the program stood and what it held.
"""
from __future__ import annotations

import json
import linecache

from retrace_tui.errors import UsageError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "inspect", help="show the stack and locals at a point of a recording",
        description="Replays REC to a point and prints the stack and the locals there.")
    parser.add_argument("recording", metavar="REC")
    parser.add_argument("--pid", type=int,
                        help="the process to inspect (default: the root; at a failure, the process "
                             "where the first failed test ran)")
    parser.add_argument("--at", default="failure", metavar="WHERE",
                        help="failure (default: where the last exception was raised), end, position:N, "
                             "event:N, or FILE:LINE (the first time that line runs)")
    parser.add_argument("--json", action="store_true", help="print the state as JSON")
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
        session.set_breakpoint(file, int(line))
        session.goto(1)
        return session.continue_()
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
    from retrace_core.control.session import EngineError, Session
    from retrace_core.tape.process_tree import describe_process

    pid, process = _process(args.recording, args.pid, args.at)
    try:
        with Session(args.recording, pid) as session:
            stop = _go(session, args.at)
            state = session.state()
            index = session.index
    except EngineError as exc:
        raise UsageError(f"inspect: {exc}") from None
    state["at"] = args.at
    state["pid"] = session.pid
    state["reason"] = stop.reason
    failures = index.failures()
    failure = failures[0] if failures else None
    state["exception"] = failure  # the first failure: a failed test's, else the uncaught exception
    state["tests"] = [{"nodeid": test.nodeid, "outcome": test.outcome} for test in index.tests]
    if index.divergence:
        from retrace_core.replay.divergence import format_report

        state["divergence"] = index.divergence
        if not args.json:
            print(f"warning: the replay diverged; the run is only inspectable before that:\n"
                  f"{format_report(index.divergence)}\n")
    if args.json:
        print(json.dumps(state, indent=1))
        return 0
    if process is not None:
        started, ending, command = describe_process(process)
        print(f"process {session.pid} ({started}; {ending}): {command}")
    print(f"position {state['position']} of {state['end']}, event {state['event']} of {state['events']}, "
          f"thread {state['thread']} ({stop.reason})")
    if failure:
        test = f"test {failure['nodeid']} " if failure.get("nodeid") else "the program "
        print(f"{test}failed with {failure['type']}: {failure['message']}"
              + (f" at {failure['file']}:{failure['line']}" if failure["file"] else ""))
    if state["finished"]:
        print("the program has ended here; nothing is on the stack")
        return 0
    for index, frame in enumerate(state["frames"]):
        print(f"  #{index} {frame['file']}:{frame['line']} in {frame['function']}")
        code = linecache.getline(frame["file"], frame["line"]).strip()
        if code:
            print(f"       {code}")
        for local in frame.get("locals", []):
            print(f"       {local['name']}: {local['type']} = {local['repr']}")
    return 0
