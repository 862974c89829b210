"""Looking at a stop: threads, stackTrace, scopes, variables, evaluate, source, exceptionInfo.

Every answer comes from the engine's throw-away forks (`Session.state`, `expand`,
`evaluate`), so a ``__repr__`` or an evaluated expression with side effects cannot
change the replay, as in the TUI. One stop's `Session.state` answers are cached until
the next move; children are fetched only when the client opens a value (``variables``
on its reference), and a long list of them is paged by ``start``/``count``.
"""
from __future__ import annotations

import os

from retrace_tui.dap.references import FrameRef, ValueRef, child_expression


def _state(adapter, frame: int = 0, thread: int | None = None) -> dict:
    """`Session.state` at this stop, cached per (frame, thread) until the next move."""
    cache = adapter.state_cache
    key = (adapter.refs.generation, frame, thread)
    if key not in cache:
        if any(k[0] != adapter.refs.generation for k in cache):
            cache.clear()
        cache[key] = adapter.session.state(frame, thread)
    return cache[key]


def _engine_thread(adapter, thread_id: int | None) -> int | None:
    from retrace_tui.dap.adapter import THREAD_OFFSET

    if thread_id is None:
        return None
    stopped = adapter.session.stop.thread
    return None if thread_id - THREAD_OFFSET == stopped else thread_id - THREAD_OFFSET


def threads(adapter, arguments: dict) -> dict:
    from retrace_tui.dap.adapter import THREAD_OFFSET

    session = adapter.session
    found = [] if session.stop.finished else _state(adapter)["threads"]
    listed = [{"id": t["thread"] + THREAD_OFFSET,
               "name": t.get("name") or ("MainThread" if t["thread"] == 0 else f"thread {t['thread']}")}
              for t in found]
    if not any(t["id"] == session.stop.thread + THREAD_OFFSET for t in listed):
        listed.insert(0, {"id": session.stop.thread + THREAD_OFFSET, "name": "MainThread"
                          if session.stop.thread == 0 else f"thread {session.stop.thread}"})
    return {"threads": listed}


def _source(adapter, file: str) -> dict | None:
    """A frame's source: its path when the file is on this disk, else a reference to
    the text the recording kept; None for code without a file (``<string>``)."""
    from retrace_core.control.assertions import recorded_sources

    name = os.path.basename(file)
    recorded = recorded_sources(adapter.session).get(file)
    if recorded is not None and not _same_on_disk(adapter, file, recorded):
        # Gone or edited since the recording: the lines are the recorded text's.
        return {"name": name, "path": file, "sourceReference": adapter.sources.reference(file),
                "origin": "recorded" if not os.path.isfile(file) else "recorded (the file has changed since)"}
    if os.path.isfile(file):
        return {"name": name, "path": file}
    return None


def _same_on_disk(adapter, file: str, recorded: bytes | str) -> bool:
    """Is the file on this disk the recorded text? (Asked once per file.)"""
    known = adapter.same_on_disk
    if file not in known:
        try:
            with open(file, "rb") as opened:
                on_disk = opened.read()
        except OSError:
            on_disk = None
        known[file] = on_disk == (recorded.encode() if isinstance(recorded, str) else recorded)
    return known[file]


def stack_trace(adapter, arguments: dict) -> dict:
    from retrace_tui.dap.adapter import THREAD_OFFSET, RequestError

    session = adapter.session
    thread_id = arguments.get("threadId", session.stop.thread + THREAD_OFFSET)
    if not isinstance(thread_id, int):
        raise RequestError("argument 'threadId' must be int")
    if session.stop.finished:
        return {"stackFrames": [], "totalFrames": 0}
    engine_thread = _engine_thread(adapter, thread_id)
    try:
        frames = _state(adapter, 0, engine_thread)["frames"]
    except Exception as exc:
        raise RequestError(f"no stack for thread {thread_id}: {exc}") from None
    start = max(arguments.get("startFrame") or 0, 0)
    levels = arguments.get("levels") or len(frames)
    thread = engine_thread if engine_thread is not None else session.stop.thread
    shown = []
    for index in range(start, min(start + levels, len(frames))):
        frame = frames[index]
        entry = {"id": adapter.refs.frame_id(thread, index), "name": frame["function"],
                 "line": adapter.line_out(frame["line"]), "column": adapter.column_out()}
        source = _source(adapter, frame["file"])
        if source is not None:
            entry["source"] = source
        if not adapter.user_steps.is_users(frame["file"]):
            entry["presentationHint"] = "subtle"  # library code: clients fold it, as the TUI does
        shown.append(entry)
    return {"stackFrames": shown, "totalFrames": len(frames)}


def _frame(adapter, frame_id) -> FrameRef:
    from retrace_tui.dap.adapter import RequestError

    if not isinstance(frame_id, int):
        raise RequestError("argument 'frameId' must be int")
    return adapter.refs.frame(frame_id)


def _thread_argument(adapter, ref: FrameRef) -> int | None:
    return None if ref.thread == adapter.session.stop.thread else ref.thread


def scopes(adapter, arguments: dict) -> dict:
    from retrace_tui.dap.adapter import RequestError

    if "frameId" not in arguments:
        raise RequestError("missing argument 'frameId'")
    ref = _frame(adapter, arguments["frameId"])
    frame = _state(adapter, ref.index, _thread_argument(adapter, ref))["frames"][ref.index]
    locals_ref = adapter.refs.value_id(ValueRef(ref, (), None, "locals"))
    scope = {"name": "Locals", "presentationHint": "locals", "variablesReference": locals_ref,
             "namedVariables": len(frame.get("locals", [])), "expensive": False}
    source = _source(adapter, frame["file"])
    if source is not None:
        scope.update(source=source, line=adapter.line_out(frame["line"]))
    return {"scopes": [scope]}


def _variable(adapter, parent: ValueRef, entry: dict) -> dict:
    name = entry["name"]
    if parent.kind == "locals":
        expression = None if entry.get("derived") else name
        path = (name,)
    else:
        expression = child_expression(parent.expression, parent.kind, name)
        path = (*parent.path, name)
    reference = 0
    if entry.get("expandable") and not entry.get("derived"):
        reference = adapter.refs.value_id(ValueRef(parent.frame, path, expression, _kind(entry["type"])))
    variable = {"name": name, "value": entry["repr"], "type": entry["type"], "variablesReference": reference}
    if expression is not None:
        variable["evaluateName"] = expression
    if entry.get("derived"):
        variable["presentationHint"] = {"kind": "virtual", "attributes": ["readOnly"]}
    return variable


def _kind(type_name: str) -> str:
    if type_name in ("dict", "OrderedDict", "defaultdict", "Counter", "mappingproxy"):
        return "dict"
    return "object"


def variables(adapter, arguments: dict) -> dict:
    from retrace_tui.dap.adapter import RequestError

    reference = arguments.get("variablesReference")
    if not isinstance(reference, int):
        raise RequestError("missing argument 'variablesReference' (an int)")
    ref = adapter.refs.value(reference)
    thread = _thread_argument(adapter, ref.frame)
    if ref.kind == "locals":
        entries = _state(adapter, ref.frame.index, thread)["frames"][ref.frame.index].get("locals", [])
        return_value = _state(adapter, ref.frame.index, thread).get("return_value")
        if return_value and ref.frame.index == 0:
            entries = [{"name": f"(return) {return_value.get('function', '')}", "type": return_value.get("type", ""),
                        "repr": return_value.get("repr", ""), "derived": True}, *entries]
    else:
        entries = adapter.session.expand(list(ref.path), ref.frame.index, thread)
    start = max(arguments.get("start") or 0, 0)
    count = arguments.get("count") or len(entries)
    return {"variables": [_variable(adapter, ref, entry) for entry in entries[start:start + count]]}


def evaluate(adapter, arguments: dict) -> dict:
    """An expression in the stopped frame (or ``frameId``'s), in a throw-away fork."""
    from retrace_tui.dap.adapter import RequestError

    expression = arguments.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise RequestError("missing argument 'expression'")
    session = adapter.session
    if session.stop.finished:
        raise RequestError("the program has ended here: there is no frame to evaluate in")
    if arguments.get("frameId") is not None:
        ref = _frame(adapter, arguments["frameId"])
    else:
        ref = FrameRef(session.stop.thread, 0)
    value = session.evaluate(expression, ref.index, _thread_argument(adapter, ref))
    reference = 0
    if value.get("expandable") and expression.strip().isidentifier():
        reference = adapter.refs.value_id(ValueRef(ref, (expression.strip(),), expression.strip(),
                                                   _kind(value["type"])))
    return {"result": value["repr"], "type": value["type"], "variablesReference": reference}


def source(adapter, arguments: dict) -> dict:
    """The text of a recorded source that is not on this disk (or is, by its path)."""
    from retrace_core.control.assertions import source_text
    from retrace_tui.dap.adapter import RequestError

    reference = arguments.get("sourceReference") or (arguments.get("source") or {}).get("sourceReference")
    path = adapter.sources.path(reference) if reference else (arguments.get("source") or {}).get("path")
    if not path:
        raise RequestError("missing argument 'sourceReference'")
    text = source_text(adapter.session, path)
    if text is None:
        raise RequestError(f"no source for {path}: neither recorded nor on this disk")
    return {"content": text, "mimeType": "text/x-python"}


def exception_info(adapter, arguments: dict) -> dict:
    """The failure the session stands at (a failed test, or the uncaught exception)."""
    from retrace_tui.dap.adapter import RequestError

    session = adapter.session
    stop = session.stop
    failures = session.index.failures()
    here = [f for f in failures if (f["file"], f["line"]) == (stop.file, stop.line)]
    if not here:
        raise RequestError("no failure at this stop")
    failure = here[0]
    where = f" (test {failure['nodeid']})" if failure.get("nodeid") else ""
    return {"exceptionId": failure["type"], "description": f"{failure['message']}{where}",
            "breakMode": "unhandled",
            "details": {"message": failure["message"], "typeName": failure["type"],
                        "stackTrace": f"{failure['file']}:{failure['line']}"}}
