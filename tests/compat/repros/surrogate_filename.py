"""Issue 14 cause 2 (found in click): a surrogate-escaped file name stops the recorder.

click's tests/test_types/test_Path.py opens "\\udcff" in a temporary folder at import time to
learn whether the file system takes non-UTF-8 names. The recorder cannot encode the path
(UnicodeEncodeError: surrogates not allowed), stops silently, and verify diverges at the
next call, which is not on the tape."""
import os
import tempfile

folder = tempfile.mkdtemp()
path = os.path.join(folder, "\udcff")
with open(path, "w") as handle:
    handle.write("x")
print(os.listdir(folder) == ["\udcff"])
os.unlink(path)
os.rmdir(folder)
