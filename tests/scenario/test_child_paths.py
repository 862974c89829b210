"""A child Python that drops site-packages from its path is recorded and runs as it
would unrecorded. pip's isolated build environments do this with a sitecustomize
(setuptools-scm's suite): the launcher could not import retrace_core, and the child
failed with ModuleNotFoundError where it ran unrecorded. (With an editable install of
retrace-tui its import finder works without the path, so this fails before the fix only
with a normal install, as CI makes.)"""
from conftest import cli

PROGRAM = """
import os, subprocess, sys, tempfile

folder = tempfile.mkdtemp()
with open(os.path.join(folder, "sitecustomize.py"), "w") as handle:
    handle.write("import sys\\nsys.path[:] = [p for p in sys.path if 'site-packages' not in p]\\n")
env = dict(os.environ, PYTHONPATH=folder)
code = "import sys; print('child ok', any('site-packages' in p for p in sys.path))"
done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
print(done.returncode, done.stdout.strip() or done.stderr.strip().splitlines()[-1])
"""  # the folder stays: the child's replay runs the same sitecustomize first


def test_a_child_without_site_packages_runs_and_is_recorded(record, write_program):
    write_program(PROGRAM)
    run = record("program.py")
    assert (run.status, run.stdout) == (0, "0 child ok False\n"), run.stderr
    listed = cli("pids", str(run.path))
    assert listed.stdout.count("\n") == 2 and "exit 0" in listed.stdout.splitlines()[1], listed.stdout
