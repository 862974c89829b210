"""`retrace-tui verify REC [--pid PID] [--json]`: does the replay match the recording exactly?

Without ``--pid``, every recorded process is verified (each in a worker of its own, at
the same time) and the verdict is given per process.
"""
from __future__ import annotations

import json
import shlex
from concurrent.futures import ThreadPoolExecutor

from retrace_core.replay.divergence import format_report
from retrace_core.replay.runner import ReplayResult, replay
from retrace_core.tape.errors import RecordingError
from retrace_core.tape.process_tree import describe_process
from retrace_core.tape.recording import Recording


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify", help="replay headlessly; exit 0 if it matched the recording exactly, 1 if it diverged")
    parser.add_argument("recording", metavar="REC")
    parser.add_argument("--pid", type=int, help="the process to verify (default: every process, root first)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.pid is not None:
        return _verify_one(args.recording, args.pid, args.json)
    with Recording(args.recording) as recording:
        processes = recording.processes()
    if len(processes) == 1:
        return _verify_one(args.recording, processes[0]["pid"], args.json)
    with ThreadPoolExecutor(max_workers=4) as pool:
        verdicts = list(pool.map(lambda process: _verdict(args.recording, process), processes))
    failed = [verdict for verdict in verdicts if verdict["verdict"] not in ("matched", "incomplete")]
    if args.json:
        root = dict(verdicts[0])
        root.update(matched=not failed, processes=verdicts)
        print(json.dumps(root, indent=1))
        return 1 if failed else 0
    for notice in dict.fromkeys(n for verdict in verdicts for n in verdict.get("notices", [])):
        print(f"notice: {notice}")
    for verdict in verdicts:
        _print_process(verdict)
    incomplete = sum(verdict["verdict"] == "incomplete" for verdict in verdicts)
    if failed:
        print(f"{len(failed)} of {len(verdicts)} processes did not replay exactly")
    else:
        print(f"all {len(verdicts)} processes replayed exactly"
              + (f" ({incomplete} only as far as they were recorded)" if incomplete else ""))
    return 1 if failed else 0


def _verify_one(recording: str, pid: int | None, as_json: bool) -> int:
    result = replay(recording, pid, echo=False)
    if as_json:
        print(json.dumps(_fields(result), indent=1))
    else:
        for notice in result.notices:
            print(f"notice: {notice}")
        if result.matched:
            print(_matched_line(result))
            for note in _notes(_fields(result)):
                print(f"note: {note}")
        else:
            print(format_report(result.divergence))
    return 0 if result.matched else 1


def _fields(result: ReplayResult) -> dict:
    return {"matched": result.matched, "events": result.events,
            "exit_status": result.exit_status, "recorded_exit_status": result.recorded_exit_status,
            "divergence": result.divergence, "notices": result.notices,
            "incomplete": result.incomplete,
            "bootstrap_difference": result.bootstrap_difference,
            "address_differences": result.address_differences,
            "argument_differences": result.argument_differences,
            "first_argument_difference": result.first_argument_difference}


def _notes(fields: dict) -> list[str]:
    """What a matched replay passed over: writes that differed only in addresses, and calls
    the program made with other arguments than recorded (their results came from the tape,
    so the program went on as recorded; a path of this machine is the usual cause)."""
    notes = []
    if fields.get("address_differences"):
        notes.append(f"{fields['address_differences']} writes differed only in object addresses "
                     f"(0x... or an id()), which every new process has its own of")
    if fields.get("argument_differences"):
        count = fields["argument_differences"]
        notes.append(f"{count} {'call' if count == 1 else 'calls'} had other arguments than recorded and "
                     f"{'was' if count == 1 else 'were'} answered from the tape "
                     f"(the first, {fields['first_argument_difference']})")
    return notes


def _matched_line(result: ReplayResult) -> str:
    return f"matched: {result.events} events replayed exactly, exit status {result.exit_status}"


def _verdict(recording: str, process: dict) -> dict:
    """One process's verdict: matched, incomplete (its recording ends early, and the replay
    matched all of it), diverged, or error (it could not be replayed)."""
    started, _ending, command = describe_process(process)
    identity = {"pid": process["pid"], "started": started.partition(" at event ")[0], "command": command,
                "became": process.get("became")}
    try:
        result = replay(recording, process["pid"], echo=False)
    except RecordingError as exc:
        return {**identity, "verdict": "error", "matched": False, "error": str(exc)}
    fields = _fields(result)
    if result.matched:
        verdict = "matched"
    elif not process.get("complete") and (result.divergence or {}).get("kind") == "past-end":
        verdict = "incomplete"
    else:
        verdict = "diverged"
    return {**identity, "verdict": verdict, **fields}


def _print_process(verdict: dict) -> None:
    name = f"process {verdict['pid']} ({verdict['started']}: {verdict['command']})"
    if verdict["verdict"] == "matched":
        ending = (f"up to where it became another program: {shlex.join(verdict['became'])}" if verdict.get("became")
                  else f"exit status {verdict['exit_status']}")
        print(f"{name}: matched: {verdict['events']} events replayed exactly, {ending}")
        for note in _notes(verdict):
            print(f"  note: {note}")
    elif verdict["verdict"] == "incomplete":
        print(f"{name}: incomplete: its recording ends at event {verdict['events']} (the process did not "
              f"finish recording: it was killed, or still running when the recording was packed); "
              f"replayed exactly up to there")
    elif verdict["verdict"] == "error":
        print(f"{name}: not replayed: {verdict['error']}")
    else:
        print(f"{name}: diverged")
        print("\n".join("  " + line for line in format_report(verdict["divergence"]).splitlines()))
