"""The rule of which code is the user's (core/control/user_code.py)."""
from __future__ import annotations

import os
import sys

from retrace_core.control.user_code import UserCode

SITE = os.path.join(sys.prefix, "lib", "python3.11", "site-packages")


def test_the_project_and_its_tests_are_the_users_libraries_are_not(tmp_path):
    rule = UserCode(str(tmp_path), ["-m", "pytest", "tests", "-q"], project_packages=set())
    assert rule.is_users(str(tmp_path / "tests" / "test_receipt.py"))
    assert rule.is_users(str(tmp_path / "checkout" / "receipt.py"))
    assert not rule.is_users(os.path.join(SITE, "_pytest", "python.py"))
    assert not rule.is_users(os.path.join(SITE, "pluggy", "_callers.py"))
    assert not rule.is_users(os.__file__)  # the standard library
    assert not rule.is_users("<string>") and not rule.is_users(None)


def test_a_virtual_environment_inside_the_project_is_not_the_users(tmp_path):
    rule = UserCode(str(tmp_path), [], project_packages=set())
    assert not rule.is_users(str(tmp_path / ".venv" / "lib" / "python3.11" / "site-packages" / "pytest" / "x.py"))
    assert not rule.is_users(str(tmp_path / ".tox" / "py311" / "lib" / "x.py"))


def test_test_paths_and_the_program_outside_the_root_are_the_users(tmp_path):
    root = tmp_path / "work"
    rule = UserCode(str(root), ["../suite/tests/test_a.py::test_one", "--fast", "../other"], project_packages=set())
    assert rule.is_users(str(tmp_path / "suite" / "tests" / "test_a.py"))
    assert rule.is_users(str(tmp_path / "other" / "helpers.py"))
    assert not rule.is_users(str(tmp_path / "suite" / "tests" / "test_b.py"))
    script = UserCode(str(root), ["../tool.py", "input.txt"], project_packages=set())
    assert script.is_users(str(tmp_path / "tool.py"))


def test_the_project_installed_into_site_packages_is_still_the_users(tmp_path):
    (tmp_path / "src" / "shop").mkdir(parents=True)
    (tmp_path / "src" / "shop" / "__init__.py").write_text("")
    rule = UserCode(str(tmp_path), ["-m", "pytest"])
    assert rule.packages == {"shop"}
    assert rule.is_users(os.path.join(SITE, "shop", "cart.py"))
    assert not rule.is_users(os.path.join(SITE, "requests", "api.py"))


def test_the_rule_from_a_real_recording(record, write_program, tmp_path):
    write_program("print('hello')\n")
    run = record("program.py")
    assert run.status == 0, run.stderr
    rule = UserCode.from_header(run.tape().process)
    assert rule.root == os.path.join(str(tmp_path), "")
    assert rule.is_users(str(tmp_path / "program.py"))
    assert not rule.is_users(os.path.join(os.path.dirname(os.__file__), "json", "__init__.py"))
