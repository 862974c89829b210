"""Only here so that cffi can hook its C build into `pip install` (cffi_modules)."""
from setuptools import setup

setup(
    packages=[
        "retrace_tui",
        "retrace_tui.commands",
        "retrace_core",
        "retrace_core.bootstrap",
        "retrace_core.boundary",
        "retrace_core.tape",
    ],
    package_dir={"retrace_tui": "retrace_tui", "retrace_core": "core"},
    cffi_modules=["csrc/build_engine.py:ffibuilder"],
)
