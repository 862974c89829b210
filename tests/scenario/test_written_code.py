"""A program that writes code and imports it replays (boundary/written_code.py).

Found in mako (``module_directory=``: a template compiled to a .py file, then loaded from
it) and jinja2 (``compile_templates(zip=...)`` then ``ModuleLoader``). importlib reads code
with ``_io.open_code`` and checks files with ``posix.stat``, neither of them recorded, and a
replay performs no writes: the import failed in the replay only (V2 in
docs/compatibility.md).
"""
import importlib.util
import py_compile
import shutil
import sys
from pathlib import Path

from conftest import cli, verify

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


# jinja2's ModuleLoader: modules written into a folder, imported by name from it
# (importlib's FileFinder lists the folder, then reads the file).
FROM_A_WRITTEN_FOLDER = """\
import importlib, os, sys, tempfile

folder = tempfile.mkdtemp()
for name, value in (("first_made", 1), ("second_made", 2)):
    with open(os.path.join(folder, name + ".py"), "w") as handle:
        handle.write(f"VALUE = {value}\\n")
sys.path.insert(0, folder)
importlib.invalidate_caches()
import first_made, second_made
print("imported", first_made.VALUE, second_made.VALUE)
"""

# mako's module_directory: the module goes to a mkstemp file (os.open), os.write, then
# shutil.move (os.rename) into place, and is loaded from there.
MOVED_INTO_PLACE = """\
import importlib.util, os, shutil, tempfile

folder = tempfile.mkdtemp()
target = os.path.join(folder, "template_module.py")
descriptor, scratch = tempfile.mkstemp(dir=folder)
os.write(descriptor, b"VALUE = 42\\n")
os.close(descriptor)
shutil.move(scratch, target)
spec = importlib.util.spec_from_file_location("template_module", target)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print("imported", module.VALUE)
shutil.rmtree(folder)
"""


# The same by keyword arguments: os.open(path, flags=...), os.replace(src=..., dst=...).
MOVED_BY_KEYWORD = MOVED_INTO_PLACE.replace(
    "descriptor, scratch = tempfile.mkstemp(dir=folder)",
    "scratch = os.path.join(folder, 'scratch')\ndescriptor = os.open(scratch, flags=os.O_WRONLY | os.O_CREAT)",
).replace("shutil.move(scratch, target)", "os.replace(src=scratch, dst=target)")


def test_modules_written_into_a_folder_import_by_name_in_the_replay(record):
    run = record("-c", FROM_A_WRITTEN_FOLDER)
    assert (run.status, run.stdout) == (0, "imported 1 2\n"), run.stderr
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "imported 1 2\n"), replayed.stderr


def test_a_module_written_with_os_open_and_moved_into_place_imports_in_the_replay(record):
    run = record("-c", MOVED_INTO_PLACE)
    assert (run.status, run.stdout) == (0, "imported 42\n"), run.stderr
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "imported 42\n"), replayed.stderr


LEFT_IN_PLACE = """\
import importlib.util, os, sys

target = os.path.join(sys.argv[1], "kept_module.py")
with open(target, "w") as handle:
    handle.write("VALUE = 7\\n")
spec = importlib.util.spec_from_file_location("kept_module", target)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print("imported", module.VALUE)
"""


def test_a_module_written_and_moved_by_keyword_arguments_imports_in_the_replay(record):
    run = record("-c", MOVED_BY_KEYWORD)
    assert (run.status, run.stdout) == (0, "imported 42\n"), run.stderr
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "imported 42\n"), replayed.stderr


def test_the_bytecode_the_recorded_run_left_beside_a_written_module_is_not_read_in_the_replay(record, tmp_path):
    # The recorded run's folder is still there (pytest keeps its last three base temp
    # folders), with a .pyc beside the module (importlib writes one unless told not to):
    # the replay must import as the recorded run did, from the source.
    kept = tmp_path / "kept"
    kept.mkdir()
    run = record("-c", LEFT_IN_PLACE, str(kept))
    assert (run.status, run.stdout) == (0, "imported 7\n"), run.stderr
    module = str(kept / "kept_module.py")
    py_compile.compile(module, cfile=importlib.util.cache_from_source(module), doraise=True)
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "imported 7\n"), replayed.stderr


def test_data_written_beside_the_script_keeps_importlib_off_the_tape(record, write_program):
    # Only a folder the program writes a module into is a written folder: a script that
    # saves its data next to itself and then imports must not tape importlib's looks.
    write_program("import json\nopen('data.json', 'w').write('[]')\nimport colorsys\nprint(colorsys.rgb_to_hls(1, 0, 0))\n")
    run = record("program.py")
    assert (run.status, run.stdout) == (0, "(0.0, 0.5, 1.0)\n"), run.stderr
    assert not [event for event in run.tape().events if event.function.startswith("importlib.")]


# setuptools-scm's tests: a test writes a project into a temporary folder and runs its
# setup.py in a child Python, whose pkg_resources lists every folder on sys.path that
# importlib has a finder for. The folder is gone when the recording is replayed.
RUNS_A_SCRIPT_IT_WROTE = """\
import os, subprocess, sys, tempfile

folder = tempfile.mkdtemp()
with open(os.path.join(folder, "helper.py"), "w") as handle:
    handle.write("VALUE = 7\\n")
with open(os.path.join(folder, "script.py"), "w") as handle:
    handle.write(
        "import os, pkgutil, sys\\n"
        "here = os.path.dirname(os.path.abspath(__file__))\\n"
        "print(type(sys.path_importer_cache.get(sys.path[0])).__name__,\\n"
        "      sorted(module.name for module in pkgutil.iter_modules([here])))\\n"
        "import helper\\n"
        "print('helper', helper.VALUE)\\n")
child = subprocess.run([sys.executable, os.path.join(folder, "script.py")], capture_output=True, text=True)
print(child.returncode, child.stdout, child.stderr, sep="|")
print(folder)
"""


def test_a_child_running_a_script_its_parent_wrote_sees_the_same_folder_in_the_replay(record, write_program):
    """A folder the parent wrote a module into is a written folder in its recorded children too."""
    import shutil

    write_program(RUNS_A_SCRIPT_IT_WROTE)
    run = record("program.py")
    assert run.status == 0, run.stderr
    printed, folder = run.stdout.splitlines()[:-1], run.stdout.splitlines()[-1]
    assert printed == ["0|FileFinder ['helper', 'script']", "helper 7", "|"], run.stdout
    shutil.rmtree(folder)  # as on another machine, or after the test's temporary folder went
    verified = cli("verify", str(run.path))
    assert verified.status == 0 and "matched" in verified.stdout, verified.stdout + verified.stderr


def test_a_script_rewritten_between_two_runs_of_it_replays_both(record, write_program):
    """execnet's serializer tests write ``dump.py``, run it, write other code into it and
    run it again. Each recorded child stored its script under the path, the second over
    the first, and the replay refused the first child: "the stored source of .../dump.py
    does not match its sha256 in the manifest; the recording was altered"."""
    write_program("""
        import os, subprocess, sys, tempfile

        script = os.path.join(tempfile.mkdtemp(), "dump.py")
        for value in ("set((1, 2, 3))", "frozenset()"):
            with open(script, "w") as handle:
                handle.write(f"print(type({value}).__name__)\\n")
            print(subprocess.run([sys.executable, script], capture_output=True, text=True).stdout.strip())
    """)
    run = record("program.py")  # the fixture verifies every process of it
    assert (run.status, run.stdout) == (0, "set\nfrozenset\n"), run.stderr
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0 and "3 processes" in verdict.stdout, verdict.stdout + verdict.stderr


def test_a_package_written_into_a_made_folder_replays_once_the_folder_is_gone(record, write_program):
    """A test that writes a package into its ``tmp_path`` and imports it (werkzeug's
    ``import_string`` tests) replayed only while the folder was still there. The folder on
    ``sys.path`` that holds the package was not a written folder (no module was written
    straight into it), so importlib looked at the disk for it: on another machine, or once
    pytest had removed its old temporary folders, the import found nothing. A folder the
    program made that holds a written folder is one too."""
    write_program("""
        import os, sys, tempfile

        folder = tempfile.mkdtemp()
        os.makedirs(os.path.join(folder, "outer", "inner"))
        for name, text in (("outer/__init__.py", ""), ("outer/inner/__init__.py", ""),
                           ("outer/inner/values.py", "ANSWER = 42\\n")):
            with open(os.path.join(folder, name), "w") as handle:
                handle.write(text)
        sys.path.insert(0, folder)
        from outer.inner import values
        print(folder)
        print("imported", values.ANSWER)
    """)
    run = record("program.py")
    folder, imported = run.stdout.splitlines()
    assert imported == "imported 42", run.stderr
    shutil.rmtree(folder)
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout), replayed.stderr
    assert verify(run.path).status == 0


def test_bytecode_the_program_compiles_in_a_folder_it_made_replays(record, write_program, tmp_path):
    # pytest's suite compiles a module with py_compile in its test's folder: importlib writes
    # the .pyc through its own posix.open, unseen, and only the FileIO on that descriptor was
    # an event, so a replay wrote for real, and failed once the folder was gone.
    write_program("""
        import os, py_compile, tempfile
        folder = tempfile.mkdtemp(dir=os.getcwd())
        source = os.path.join(folder, "module.py")
        with open(source, "w") as handle:
            handle.write("VALUE = 1\\n")
        compiled = py_compile.compile(source, cfile=os.path.join(folder, "module.pyc"), doraise=True)
        print(os.path.basename(compiled), os.path.getsize(compiled) > 16)
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0, run.stderr
    assert run.stdout == "module.pyc True\n"
    folders = [path for path in tmp_path.iterdir() if path.is_dir() and path.name.startswith("tmp")]
    assert len(folders) == 1
    shutil.rmtree(folders[0])  # as pytest removes its older temporary folders
    verdict = verify(run.path)
    assert verdict.status == 0, verdict.stdout
    assert not folders[0].exists()  # a replay writes nothing


def test_a_module_the_program_wrote_and_names_relative_to_its_new_folder_replays(record, write_program):
    # pytest's suite (test_orphaned_pyc_file) writes orphan.py by its full name, chdirs there
    # and compiles it by the relative name: a replay, which does not change folder, looked
    # for it where the replay started, found nothing and raised where the recording read
    # the tape (boundary/working_folder.py).
    write_program("""
        import os, py_compile, tempfile
        folder = tempfile.mkdtemp()
        with open(os.path.join(folder, "orphan.py"), "w") as handle:
            handle.write("VALUE = 17\\n")
        os.chdir(folder)
        print(py_compile.compile("orphan.py", doraise=True))
        os.chdir("..")
        print(os.path.basename(os.getcwd()))
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0, run.stderr
    assert run.stdout.splitlines()[0] == "__pycache__/orphan.cpython-%d%d.pyc" % sys.version_info[:2]
    verdict = verify(run.path)
    assert verdict.status == 0, verdict.stdout
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout), replayed.stderr


def test_a_relative_entry_of_sys_path_in_the_programs_new_folder_imports_in_the_replay(record, write_program):
    # pytest's suite (test_pattern_contains_subdirectories): pytester's syspathinsert("tests")
    # after a chdir; importlib made its finder of the replay's folder's "tests" and diverged.
    write_program("""
        import importlib, os, sys, tempfile
        folder = tempfile.mkdtemp()
        os.makedirs(os.path.join(folder, "tests"))
        with open(os.path.join(folder, "tests", "relative_module.py"), "w") as handle:
            handle.write("VALUE = 42\\n")
        os.chdir(folder)
        sys.path.insert(0, "tests")
        importlib.invalidate_caches()
        import relative_module
        print("imported", relative_module.VALUE)
    """)
    run = record("program.py", verify_after=False)
    assert (run.status, run.stdout) == (0, "imported 42\n"), run.stderr
    verdict = verify(run.path)
    assert verdict.status == 0, verdict.stdout


def test_the_bytecode_the_recorded_run_left_under_sys_pycache_prefix_is_not_read_in_the_replay(record, tmp_path):
    # pytest's suite (test_sys_pycache_prefix_integration): with sys.pycache_prefix set,
    # importlib keeps a written module's bytecode under the prefix, not beside it; the
    # replay read there for real what the recorded run had left and skipped the source.
    kept, prefix = tmp_path / "kept", tmp_path / "pycs"
    kept.mkdir()
    run = record("-c", "import sys; sys.pycache_prefix = sys.argv.pop(); " + LEFT_IN_PLACE, str(kept), str(prefix))
    assert (run.status, run.stdout) == (0, "imported 7\n"), run.stderr
    module = str(kept / "kept_module.py")
    cached = prefix / str(kept).lstrip("/") / f"kept_module.{sys.implementation.cache_tag}.pyc"
    py_compile.compile(module, cfile=str(cached), doraise=True)
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, "imported 7\n"), replayed.stderr
