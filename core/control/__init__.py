"""The time-travel engine's control side: workers, snapshots and navigation verbs.

``from retrace_core.control import Session`` is the engine's public entry point. It is
loaded on first use: replay workers import this package's engine half and must not pay
for the controller's imports.
"""


def __getattr__(name: str):
    if name == "Session":
        from retrace_core.control.session import Session

        return Session
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Session"]
