"""Found in setuptools-scm (testing_scm/test_regressions.py::test_pip_download: pip builds an
sdist in an isolated build environment): results change, the child fails recorded only.

pip runs the build backend in a child Python whose sitecustomize (pip's BuildEnvironment)
removes the interpreter's site-packages from sys.path. Recorded, every child Python is
started through retrace_core/bootstrap/launch.py, which then cannot import retrace_core:
"ModuleNotFoundError: No module named 'retrace_core'" (launch.py line 279, `from
retrace_core.bootstrap.preload import preload`), exit status 1 where it was 0. The launcher
must find its package whatever the child does to sys.path (put its own directory first
before importing, or carry the path itself)."""
import os
import subprocess
import sys
import tempfile

folder = tempfile.mkdtemp()
with open(os.path.join(folder, "sitecustomize.py"), "w") as handle:
    handle.write("import sys\nsys.path[:] = [p for p in sys.path if 'site-packages' not in p]\n")
env = dict(os.environ, PYTHONPATH=folder)
done = subprocess.run([sys.executable, "-c", "print('child ok')"], env=env, capture_output=True, text=True)
print(done.returncode, done.stdout.strip() or done.stderr.strip().splitlines()[-1])
os.remove(os.path.join(folder, "sitecustomize.py"))
os.rmdir(folder)
