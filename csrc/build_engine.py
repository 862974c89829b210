"""cffi builder for `retrace_core._engine`, the C half of the engine.

API mode, out of line: `pip install` compiles it through setup.py's `cffi_modules`.
One narrow cdef surface; each concern lives in its own .c file beside this one.
Python objects cross the boundary as `void *` (their CPython address), and every C
function that touches interpreter state takes the GIL itself, because cffi releases
it around calls.
"""

from cffi import FFI

C_FILES = ["typepatch.c"]

CDEF = """
int rt_type_set_attribute(void *type, const char *name, void *value);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "retrace_core._engine",
    '#include "engine.h"',
    # setuptools wants /-separated paths relative to setup.py, never absolute ones.
    sources=[f"csrc/{name}" for name in C_FILES],
    include_dirs=["csrc"],
    # The limited API hides what type patching (and later the tracer) needs.
    define_macros=[("_CFFI_NO_LIMITED_API", None)],
    py_limited_api=False,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
