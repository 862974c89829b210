"""Here so that cffi can hook its C build into `pip install` (cffi_modules), and to map
the folders of the layout onto packages: core/ is installed as `retrace_core` (never
as a top-level `core`), quickstart/ ships inside retrace_tui for `retrace-tui demo`,
and themes/ (the colour themes' TOML files) is installed as `retrace_tui.themes`."""
from setuptools import setup

setup(
    packages=[
        "retrace_tui",
        "retrace_tui.commands",
        "retrace_tui.dap",
        "retrace_tui.quickstart",
        "retrace_tui.quickstart.checkout",
        "retrace_tui.quickstart.tests",
        "retrace_tui.themes",
        "retrace_tui.widgets",
        "retrace_core",
        "retrace_core.bootstrap",
        "retrace_core.boundary",
        "retrace_core.control",
        "retrace_core.pytest",
        "retrace_core.replay",
        "retrace_core.tape",
        "retrace_core.trace",
    ],
    package_dir={"retrace_tui": "retrace_tui", "retrace_core": "core", "retrace_tui.quickstart": "quickstart",
                 "retrace_tui.themes": "themes"},
    package_data={"retrace_tui.quickstart": ["*.json", "*.md", "*.toml"], "retrace_tui.themes": ["*.toml"],
                  "retrace_tui.dap": ["vscode/*.json", "vscode/*.js", "vscode/*.md"]},
    cffi_modules=["csrc/build_engine.py:ffibuilder"],
)
