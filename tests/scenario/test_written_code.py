"""A program that writes code and imports it replays (boundary/written_code.py).

Found in mako (``module_directory=``: a template compiled to a .py file, then loaded from
it) and jinja2 (``compile_templates(zip=...)`` then ``ModuleLoader``). importlib reads code
with ``_io.open_code`` and checks files with ``posix.stat``, neither of them recorded, and a
replay performs no writes: the import failed in the replay only (V2 in
docs/compatibility.md).
"""
from conftest import cli

MODULE_WRITTEN_THEN_IMPORTED = """\
import importlib.util, os, tempfile

folder = tempfile.mkdtemp()
path = os.path.join(folder, "made_now.py")
with open(path, "w") as handle:
    handle.write("VALUE = 42\\n")
try:
    spec = importlib.util.spec_from_file_location("made_now", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print("imported", module.VALUE)
finally:
    os.remove(path)
    os.rmdir(folder)
"""

ZIP_WRITTEN_THEN_IMPORTED = """\
import os, sys, tempfile, zipfile

fd, archive = tempfile.mkstemp(suffix=".zip")
os.close(fd)
with zipfile.ZipFile(archive, "w") as handle:
    handle.writestr("made_in_zip.py", "VALUE = 43\\n")
sys.path.insert(0, archive)
try:
    import made_in_zip
    print("imported", made_in_zip.VALUE)
finally:
    sys.path.remove(archive)
    os.remove(archive)
"""


def test_a_module_the_program_wrote_imports_in_the_replay(record, write_program):
    write_program(MODULE_WRITTEN_THEN_IMPORTED)
    run = record("program.py")  # the fixture verifies every recording after the test
    assert (run.status, run.stdout) == (0, "imported 42\n")
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "imported 42\n")


def test_a_zip_the_program_wrote_imports_in_the_replay(record, write_program):
    write_program(ZIP_WRITTEN_THEN_IMPORTED)
    run = record("program.py")
    assert (run.status, run.stdout) == (0, "imported 43\n")
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "imported 43\n")
    # importlib's reads of what the program did not write stay off the tape
    reads = [event.arguments[0] for event in run.tape().events if event.function == "io.open_code"]
    assert reads and all(read.endswith(".zip") for read in reads)
