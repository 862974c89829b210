"""``python -m retrace_tui ...``, including ``--recording REC -- ARGS`` (the original Retrace's shape)."""
import sys

from retrace_tui.cli import main

if __name__ == "__main__":
    sys.exit(main())
