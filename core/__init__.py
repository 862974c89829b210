"""retrace_core: the engine of retrace-tui (recording, tape, replay, control).

This package is imported inside the user's recorded process, so it stays light:
no UI libraries, and nothing heavy at import time.
"""

__version__ = "0.1.0"
