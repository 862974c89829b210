"""The pytest plugin the recorder brings: a marker when each test starts and ends.

It only observes: it prints nothing and changes no outcome. A test's end marker carries
its outcome and, for a failure, where it failed (the frames the exception went through,
innermost last) and the exception's text, so the debugger can open at the failing line.
"""
from __future__ import annotations

import pytest

from retrace_core.pytest.markers import mark

_failures: dict[str, dict] = {}  # nodeid -> how it failed (filled by makereport, used at logfinish)
_outcomes: dict[str, str] = {}


def pytest_runtest_logstart(nodeid: str, location) -> None:
    mark("test-start", {"nodeid": nodeid})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    try:
        if report.failed:
            # Here, right after the failing phase: the failing line's last run is before
            # this marker (teardown may run the same line again, and it is not the failure).
            mark("test-failed", {"nodeid": item.nodeid, "when": call.when})
        if report.failed and call.excinfo is not None and item.nodeid not in _failures:
            frames = []
            tb = call.excinfo.tb
            while tb is not None:
                frames.append([tb.tb_frame.f_code.co_filename, tb.tb_lineno])
                tb = tb.tb_next
            _failures[item.nodeid] = {"type": call.excinfo.typename, "message": _text(call.excinfo.value),
                                      "frames": frames, "when": call.when}
    except Exception:
        pass
    return report


def pytest_runtest_logreport(report) -> None:
    previous = _outcomes.get(report.nodeid)
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped and previous != "failed":
        _outcomes[report.nodeid] = "skipped"
    elif report.when == "call" and previous is None:
        _outcomes[report.nodeid] = "passed"


def pytest_runtest_logfinish(nodeid: str, location) -> None:
    data = {"nodeid": nodeid, "outcome": _outcomes.pop(nodeid, "passed")}
    failure = _failures.pop(nodeid, None)
    if failure is not None:
        data["failure"] = failure
    mark("test-end", data)


def _text(value: BaseException) -> str:
    try:
        return str(value).split("\n")[0][:500]
    except Exception:
        return type(value).__name__
