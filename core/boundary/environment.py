"""The environment at start, as stored: values of secret-looking names redacted.

A recording is an artifact that gets uploaded and shared. Replay sees the redacted
value, and a divergence report says so when such a value is involved.
"""
from __future__ import annotations

import os

DEFAULT_SECRET_PATTERNS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "AUTH",
                           "COOKIE", "SESSION")
REDACTED = "<redacted by retrace>"

# Settings read from the environment (set by `retrace-tui record` flags or by hand).
PATTERNS_VARIABLE = "RETRACE_SECRET_PATTERNS"  # comma-separated; replaces the defaults
KEEP_VARIABLE = "RETRACE_KEEP_ENV"  # comma-separated names stored as they are
PRIVATE_PREFIX = "_RETRACE_"  # the recorder's own hand-offs: stored, the program sees them


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def secret_patterns(environ) -> tuple[str, ...]:
    configured = _names(environ.get(PATTERNS_VARIABLE))
    return tuple(p.upper() for p in configured) if configured else DEFAULT_SECRET_PATTERNS


def looks_secret(name: str, patterns: tuple[str, ...]) -> bool:
    upper = name.upper()
    return any(pattern in upper for pattern in patterns)


def stored_environment(environ = os.environ) -> tuple[dict[str, str], list[str]]:
    """The environment to store, and the names whose values were redacted."""
    patterns = secret_patterns(environ)
    keep = {name.upper() for name in _names(environ.get(KEEP_VARIABLE))}
    stored, redacted = {}, []
    for name, value in environ.items():
        # The recorder's hand-offs (_RETRACE_ROOT_PID...) are in the program's os.environ
        # too: stored, so that a program that lists its environment replays exactly.
        if not name.startswith(PRIVATE_PREFIX) and name.upper() not in keep and looks_secret(name, patterns):
            stored[name] = REDACTED
            redacted.append(name)
        else:
            stored[name] = value
    return stored, sorted(redacted)
