"""retrace-tui: a time-travel debugger for Python that lives in the terminal."""

from retrace_core import __version__

__all__ = ["__version__"]
