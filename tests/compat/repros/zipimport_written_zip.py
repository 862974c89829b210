"""Found in jinja2 (tests/test_loader.py TestModuleLoader: compile_templates(zip=...) and
ModuleLoader): a program writes a zip archive and imports a module from it.

Recorded, zipimport reads the archive the program has just written. Replayed, writes are
not performed, so the archive is not on disk (or is stale), and zipimport's reads of it
(`_io.open_code`, not a recorded boundary call) fail: the import raises where it worked,
the test fails in replay only and verify diverges at the next write."""
import os
import sys
import tempfile
import zipfile

fd, archive = tempfile.mkstemp(suffix=".zip")
os.close(fd)
with zipfile.ZipFile(archive, "w") as handle:
    handle.writestr("made_in_zip.py", "VALUE = 42\n")
sys.path.insert(0, archive)
try:
    import made_in_zip
    print("imported", made_in_zip.VALUE)
finally:
    sys.path.remove(archive)
    os.remove(archive)
