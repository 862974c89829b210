"""The Debug Adapter Protocol server over one recording: requests in, responses and events out.

Two threads. The *reader* (the caller of `Adapter.serve`) reads frames, answers what
needs no engine (``initialize``, errors) and queues the rest, in order, for the
*engine thread*, the only one that touches the `Session` (which is not thread-safe).
So a long move (a reverse-continue through the whole run) never stops the reader:
``pause`` cancels it (`Session.cancel`) and ``disconnect`` ends it and the session.
Each request gets one response; a request that fails gets an error response whose
message is one line, and the adapter goes on. Nothing but frames reaches the output:
the program's output is sent as ``output`` events, and logs go to stderr.
"""
from __future__ import annotations

import queue
import sys
import threading
import traceback
from typing import BinaryIO

from retrace_tui.dap import breakpoints, inspection, moves
from retrace_tui.dap.framing import BadFrame, Writer, read_message
from retrace_tui.dap.references import SourceReferences, StopReferences

THREAD_OFFSET = 1  # DAP thread ids are the engine's thread numbers + 1: some clients take 0 for "none"


class RequestError(Exception):
    """A request that cannot be done; the message (one line) is the error response's."""


class LaunchCancelled(Exception):
    """The indexing pass was stopped: the client disconnected or cancelled it."""


def one_line(text: object, limit: int = 400) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else type(text).__name__
    return line if len(line) <= limit else line[:limit - 1] + "…"


CAPABILITIES = {
    "supportsConfigurationDoneRequest": True,
    "supportsStepBack": True,
    "supportsConditionalBreakpoints": True,
    "supportsHitConditionalBreakpoints": True,
    "supportsEvaluateForHovers": True,
    "supportsDataBreakpoints": True,
    "supportsRestartFrame": False,
    "supportsGotoTargetsRequest": True,
    "supportsTerminateRequest": True,
    "supportsExceptionInfoRequest": True,
    "supportsCancelRequest": True,
    "supportsSetVariable": False,
    "supportTerminateDebuggee": False,
    "supportsDelayedStackTraceLoading": True,
    "exceptionBreakpointFilters": [
        {"filter": "failures", "label": "Failures",
         "description": "Stop where a test failed or the program died of an uncaught exception", "default": True},
    ],
}


class Adapter:
    """One DAP conversation: a client on ``input``/``output``, at most one recording open."""

    def __init__(self, input: BinaryIO, output: BinaryIO) -> None:
        self.input = input
        self.writer = Writer(output)
        self.client: dict = {}  # the initialize request's arguments
        self.session = None  # retrace_core.control.session.Session, once launched
        self.user_steps = None  # retrace_tui.user_steps.UserSteps: "just my code"
        self.launch_arguments: dict = {}
        self.configured = False
        self.refs = StopReferences()
        self.sources = SourceReferences()
        self.breakpoints = breakpoints.Breakpoints(self)
        self.output_sent = 0  # output chunks sent so far (the program's output up to the stop)
        self.ended = False  # exited/terminated were sent
        self.goto_targets: dict[int, dict] = {}  # gotoTargets' ids -> a logpoint's runs (Session.goto_run)
        self.state_cache: dict = {}  # Session.state answers at this stop (inspection.py)
        self.same_on_disk: dict[str, bool] = {}  # is a recorded source's file on this disk as recorded?
        self._jobs: queue.Queue = queue.Queue()
        self._closing = threading.Event()
        self._cancel_launch = threading.Event()  # `cancel` of the indexing progress
        self._ending = threading.Event()  # disconnect/terminate/end of input: no more launches
        self._move_lock = threading.Lock()
        self._moving = False
        self._pause_asked = False
        self._engine = threading.Thread(target=self._engine_loop, name="retrace-dap-engine", daemon=True)

    # -- the wire ------------------------------------------------------------------------

    def event(self, name: str, body: dict | None = None) -> None:
        self.writer.send({"type": "event", "event": name, **({"body": body} if body is not None else {})})

    def respond(self, request: dict, body: dict | None = None) -> None:
        self.writer.send({"type": "response", "request_seq": request.get("seq", 0), "success": True,
                          "command": request.get("command", ""), **({"body": body} if body is not None else {})})

    def fail(self, request: dict, message: str) -> None:
        message = one_line(message)
        # No body.error: clients would read its "format" as a template ({name} is a variable).
        self.writer.send({"type": "response", "request_seq": request.get("seq", 0), "success": False,
                          "command": str(request.get("command", "")), "message": message})

    # -- the reader ----------------------------------------------------------------------

    def serve(self) -> None:
        """Read and answer until ``disconnect`` or the end of the input; then nothing is left running."""
        self._engine.start()
        try:
            while not self._closing.is_set():
                try:
                    message = read_message(self.input)
                except BadFrame as exc:
                    self.fail({"seq": exc.seq, "command": exc.command}, f"bad message: {exc}")
                    continue
                except (OSError, ValueError):
                    break
                if message is None:
                    break
                self._receive(message)
        finally:
            self._shut_down()

    def _receive(self, message: dict) -> None:
        seq, command = message.get("seq"), message.get("command")
        request = {"seq": seq if isinstance(seq, int) else 0, "command": command if isinstance(command, str) else ""}
        if message.get("type") != "request":
            if message.get("type") not in ("response", "event"):
                self.fail(request, f"bad message: type {message.get('type')!r} is not request, response or event")
            return  # a response to a reverse request, or an event: nothing to do
        if not isinstance(seq, int) or not isinstance(command, str):
            self.fail(request, "bad request: it needs an integer 'seq' and a string 'command'")
            return
        arguments = message.get("arguments", {})
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            self.fail(request, f"{command}: 'arguments' must be an object")
            return
        request["arguments"] = arguments
        if command == "initialize":
            self._initialize(request)
        elif command in ("disconnect", "terminate"):
            self._end(request)
        elif command == "pause":
            self.respond(request)
            self.pause()
        elif command == "cancel":
            self._cancel(request)
        elif command in HANDLERS or command in moves.VERBS:
            self._jobs.put(request)
        else:
            self.fail(request, f"unknown command {command!r}")

    def _initialize(self, request: dict) -> None:
        self.client = request["arguments"]
        self.respond(request, CAPABILITIES)

    def _cancel(self, request: dict) -> None:
        if request["arguments"].get("progressId") == moves.PROGRESS_ID:
            self._cancel_launch.set()
        self.respond(request)

    def pause(self) -> None:
        """From the reader: stop the move that is running, if one is."""
        with self._move_lock:
            if self._moving and self.session is not None:
                self._pause_asked = True
                self.session.cancel()

    def _end(self, request: dict) -> None:
        """disconnect/terminate: cancel what runs, close the session on its own thread, answer."""
        self._ending.set()
        self.pause()
        while True:  # what was queued will not be done
            try:
                dropped = self._jobs.get_nowait()
            except queue.Empty:
                break
            self.fail(dropped, "the debug session is ending")
        done = threading.Event()
        self._jobs.put(("close", done))
        done.wait(120)
        self._send_ended()
        self.respond(request)
        if request["command"] == "disconnect":
            self._closing.set()

    def _send_ended(self) -> None:
        if self.ended or not self.launch_arguments:
            return
        self.ended = True
        status = self.exit_status
        if status is not None:
            self.event("exited", {"exitCode": status})
        self.event("terminated")

    def _shut_down(self) -> None:
        self._ending.set()
        self.pause()
        done = threading.Event()
        self._jobs.put(("close", done))
        self._jobs.put(None)
        done.wait(120)
        self._engine.join(30)

    # -- the engine thread -----------------------------------------------------------------

    def _engine_loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if isinstance(job, tuple):  # ("close", event)
                self._close_session()
                job[1].set()
                continue
            try:
                self._run(job)
            except Exception as exc:  # a bug of ours: said once, the adapter lives on
                traceback.print_exc(file=sys.stderr)
                self.fail(job, f"internal error: {type(exc).__name__}: {one_line(exc)}")

    def _run(self, request: dict) -> None:
        from retrace_core.control.session import EngineError

        command = request["command"]
        if command != "launch" and self.session is None:
            self.fail(request, f"{command}: no recording is open (send 'launch' first)")
            return
        if command in moves.VERBS:
            moves.request(self, request)
            return
        try:
            body = HANDLERS[command](self, request["arguments"])
        except (RequestError, EngineError, LookupError) as exc:
            self.fail(request, f"{command}: {one_line(exc)}")
            return
        except (TypeError, ValueError) as exc:  # an argument of the wrong type, deeper than we check
            self.fail(request, f"{command}: bad arguments: {one_line(exc)}")
            return
        if isinstance(body, moves.Then):
            self.respond(request, body.body)
            body.then()
        else:
            self.respond(request, body)

    def _close_session(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            self._last_index = session.index
            try:
                session.close()
            except Exception:
                traceback.print_exc(file=sys.stderr)

    # -- moves (see moves.py) --------------------------------------------------------------

    def moving(self, active: bool) -> None:
        """A move starts (True) or ended (False); `pause` cancels only a running one."""
        with self._move_lock:
            self._moving = active
            if active:
                self._pause_asked = False

    @property
    def pause_asked(self) -> bool:
        return self._pause_asked

    @property
    def ending(self) -> bool:
        """disconnect, terminate or the end of the input came: the session is closing."""
        return self._ending.is_set()

    def begin_launch(self) -> None:
        self._cancel_launch.clear()

    def check_launch_cancelled(self) -> None:
        if self._ending.is_set():
            raise LaunchCancelled("the debug session is ending")
        if self._cancel_launch.is_set():
            raise LaunchCancelled("cancelled while the recording was being indexed")

    @property
    def exit_status(self) -> int | None:
        index = getattr(self.session, "index", None) if self.session is not None else self._last_index
        return getattr(index, "exit_status", None) if index is not None else None

    _last_index = None

    # -- lines and columns as the client counts them ----------------------------------------

    def line_out(self, line: int | None) -> int:
        return (line or 1) - (0 if self.client.get("linesStartAt1", True) else 1)

    def line_in(self, line: int) -> int:
        return line + (0 if self.client.get("linesStartAt1", True) else 1)

    def column_out(self) -> int:
        return 1 if self.client.get("columnsStartAt1", True) else 0


HANDLERS = {
    "launch": moves.launch,
    "configurationDone": moves.configuration_done,
    "threads": inspection.threads,
    "stackTrace": inspection.stack_trace,
    "scopes": inspection.scopes,
    "variables": inspection.variables,
    "evaluate": inspection.evaluate,
    "source": inspection.source,
    "exceptionInfo": inspection.exception_info,
    "setBreakpoints": breakpoints.set_breakpoints,
    "setExceptionBreakpoints": breakpoints.set_exception_breakpoints,
    "dataBreakpointInfo": breakpoints.data_breakpoint_info,
    "setDataBreakpoints": breakpoints.set_data_breakpoints,
    "gotoTargets": moves.goto_targets,
}
