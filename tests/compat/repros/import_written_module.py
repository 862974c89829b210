"""Found in mako (test/test_template.py with module_directory=...: a template compiled to a
.py file, then loaded from it) -- the zip variant is zipimport_written_zip.py (jinja2).

The program writes a module and imports it. Recorded, importlib reads the file the program
wrote (SourceFileLoader.get_data -> _io.open_code, not a recorded call). Replayed, the write
is not performed and the file is gone, so the import raises FileNotFoundError where it
worked: the test fails in replay only, and verify diverges at pytest's failure report
("the tape expected sys.stdout.write(b'.'), the program asked for os.getcwd()"); here at the
print."""
import importlib.util
import os
import tempfile

folder = tempfile.mkdtemp()
path = os.path.join(folder, "made_now.py")
with open(path, "w") as handle:
    handle.write("VALUE = 42\n")
try:
    spec = importlib.util.spec_from_file_location("made_now", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print("imported", module.VALUE)
finally:
    os.remove(path)
    os.rmdir(folder)
