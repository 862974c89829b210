"""The environment at start, as stored: values of secret-looking names redacted, and
credentials inside other values (``scheme://user:PASSWORD@host``, ``password=``,
``token=`` and similar query and DSN parameters).

A recording is an artifact that gets uploaded and shared. Replay sees the redacted
value, and a divergence report says so when such a value is involved.
"""
from __future__ import annotations

import os

from retrace_core.ours import KEEP_ENV as KEEP_VARIABLE
from retrace_core.ours import PRIVATE_PREFIX
from retrace_core.ours import SECRET_PATTERNS as PATTERNS_VARIABLE

DEFAULT_SECRET_PATTERNS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "AUTH",
                           "COOKIE", "SESSION")
REDACTED = "<redacted by retrace>"
# In place of a credential inside a value: no spaces or quotes, so that a URL or a DSN
# still parses in replay.
REDACTED_PART = "redacted-by-retrace"

# Settings read from the environment (set by `retrace-tui record` flags or by hand).


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def secret_patterns(environ) -> tuple[str, ...]:
    configured = _names(environ.get(PATTERNS_VARIABLE))
    return tuple(p.upper() for p in configured) if configured else DEFAULT_SECRET_PATTERNS


def looks_secret(name: str, patterns: tuple[str, ...]) -> bool:
    upper = name.upper()
    return any(pattern in upper for pattern in patterns)


# Parameters whose value is a credential, in a URL query or a DSN (``password=x``).
SECRET_PARAMETERS = ("password", "passwd", "pwd", "pass", "token", "access_token", "auth_token", "api_key",
                     "apikey", "secret", "client_secret", "sslpassword")
_SEPARATORS = "?&; \t\n,"  # what comes before a parameter's name
_VALUE_ENDS = "&; \t\n,"  # what ends its value
_AUTHORITY_ENDS = "/?# \t\n"


def redact_credentials(value: str) -> str:
    """``value`` with URL userinfo passwords and credential parameters replaced by
    :data:`REDACTED_PART`. Plain str methods, no ``re``: it runs at every recorded start."""
    if "://" in value and "@" in value:
        value = _redact_userinfo(value)
    if "=" in value:
        value = _redact_parameters(value)
    return value


def _redact_userinfo(value: str) -> str:
    start = 0
    while True:
        scheme_end = value.find("://", start)
        if scheme_end < 0:
            return value
        authority_start = scheme_end + 3
        authority_end = authority_start
        while authority_end < len(value) and value[authority_end] not in _AUTHORITY_ENDS:
            authority_end += 1
        at = value.rfind("@", authority_start, authority_end)
        colon = value.find(":", authority_start, at) if at >= 0 else -1
        if colon >= 0 and colon + 1 < at:
            value = value[:colon + 1] + REDACTED_PART + value[at:]
            authority_end = colon + 1 + len(REDACTED_PART)
        start = authority_end


def _redact_parameters(value: str) -> str:
    lowered = value.lower()
    for name in SECRET_PARAMETERS:
        key = name + "="
        start = 0
        while True:
            found = lowered.find(key, start)
            if found < 0:
                break
            value_start = found + len(key)
            if found > 0 and lowered[found - 1] not in _SEPARATORS:
                start = value_start
                continue
            quote = value[value_start:value_start + 1]
            if quote in ("'", '"'):
                closing = value.find(quote, value_start + 1)
                value_end = closing + 1 if closing >= 0 else len(value)
            else:
                value_end = value_start
                while value_end < len(value) and value[value_end] not in _VALUE_ENDS:
                    value_end += 1
            if value_end > value_start and value[value_start:value_end] != REDACTED_PART:
                value = value[:value_start] + REDACTED_PART + value[value_end:]
                lowered = value.lower()
            start = value_start + len(REDACTED_PART)
    return value


def stored_environment(environ = os.environ) -> tuple[dict[str, str], list[str]]:
    """The environment to store, and the names whose values were redacted (wholly, or
    a credential inside them)."""
    patterns = secret_patterns(environ)
    keep = {name.upper() for name in _names(environ.get(KEEP_VARIABLE))}
    stored, redacted = {}, []
    for name, value in environ.items():
        # The recorder's hand-offs (_RETRACE_ROOT_PID...) are in the program's os.environ
        # too: stored, so that a program that lists its environment replays exactly.
        if name.startswith(PRIVATE_PREFIX) or name.upper() in keep:
            stored[name] = value
        elif looks_secret(name, patterns):
            stored[name] = REDACTED
            redacted.append(name)
        else:
            stored[name] = redact_credentials(value)
            if stored[name] != value:
                redacted.append(name)
    return stored, sorted(redacted)
