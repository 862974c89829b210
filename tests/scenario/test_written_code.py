"""A program that writes code and imports it replays (boundary/written_code.py).

Found in mako (``module_directory=``: a template compiled to a .py file, then loaded from
it) and jinja2 (``compile_templates(zip=...)`` then ``ModuleLoader``). importlib reads code
with ``_io.open_code`` and checks files with ``posix.stat``, neither of them recorded, and a
replay performs no writes: the import failed in the replay only (V2 in
docs/compatibility.md).
"""
from pathlib import Path

from conftest import cli

# The programs are the repros of docs/compatibility.md's V2.
REPROS = Path(__file__).resolve().parents[1] / "compat" / "repros"


def test_a_module_the_program_wrote_imports_in_the_replay(record):
    run = record(str(REPROS / "import_written_module.py"))  # the fixture verifies every recording
    assert (run.status, run.stdout) == (0, "imported 42\n"), run.stderr
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "imported 42\n")


def test_a_zip_the_program_wrote_imports_in_the_replay(record):
    run = record(str(REPROS / "zipimport_written_zip.py"))
    assert (run.status, run.stdout) == (0, "imported 42\n"), run.stderr
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "imported 42\n")
    # importlib's reads of what the program did not write stay off the tape
    reads = [event.arguments[0] for event in run.tape().events if event.function == "io.open_code"]
    assert reads and all(read.endswith(".zip") for read in reads)
