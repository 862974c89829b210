"""Observation 6: other bytes written through open() are not a divergence."""
import os
import tempfile

path = os.path.join(tempfile.gettempdir(), "retrace-file-write-repro.txt")
with open(path, "w") as handle:
    handle.write(repr(object()))  # other bytes in every run (an address); verify still matches
