"""cffi builder for `retrace_core._engine`, the C half of the engine.

API mode, out of line: `pip install` compiles it through setup.py's `cffi_modules`.
One narrow cdef surface; each concern lives in its own .c file beside this one.
Python objects cross the boundary as `void *` (their CPython address), and every C
function that touches interpreter state takes the GIL itself, because cffi releases
it around calls.
"""

from cffi import FFI

C_FILES = ["typepatch.c", "builtins.c", "tracer.c", "stops.c", "monitor.c", "codeinfo.c", "threads.c", "linemap.c", "lifetime.c", "signals.c", "hashes.c", "untrack.c", "outermost.c"]

CDEF = """
int rt_type_set_attribute(void *type, const char *name, void *value);
int rt_die_with_parent(int signal_number);
int rt_sigterm_catch(void);
void rt_sigterm_flusher_running(int running);
int rt_sigterm_seen(void);
int rt_sigterm_release(void);
int rt_builtin_new(void *callable, void *original, void *owner, void *module_name, int classmethod,
                   void *out_list);

int rt_tracer_new(void *prefix_rules, void *on_stop, void *out_list, int monitoring);
int rt_tracer_can_monitor(void);
int rt_tracer_tool_id(void);
int rt_tracer_start(void *tracer);
void rt_tracer_stop(void *tracer);
int rt_tracer_resume(void *tracer, long long position);
long long rt_tracer_position(void *tracer);
long rt_tracer_depth(void *tracer, unsigned long thread_ident);
long rt_tracer_take_shallowest(void *tracer, unsigned long thread_ident);
int rt_tracer_set_watch_filter(void *tracer, void *frame, void *lines);
void rt_tracer_set_target(void *tracer, long long target);
int rt_tracer_set_breakpoints(void *tracer, void *breakpoints);
void rt_tracer_set_step(void *tracer, int has_thread, unsigned long thread, int has_depth, long max_depth);
void rt_tracer_set_stop_on_exception(void *tracer, int on);
void rt_tracer_set_remember(void *tracer, int breakpoints, int has_thread, unsigned long thread, int has_depth, long max_depth);
void rt_tracer_set_returns(void *tracer, unsigned long thread, long depth, void *returns);
long long rt_tracer_last_hit(void *tracer);
void rt_tracer_clear_remembered(void *tracer);
void rt_tracer_pause(void *tracer, int pause);
int rt_tracer_sight(void *tracer, void *callback);
void rt_tracer_gather_line_map(void *tracer, int on);
int rt_tracer_take_line_map(void *tracer, void *out_list);

int rt_hashes_install(void *guard, void *prefixes, void *alive);
void rt_hashes_program_begins(int numbers_per_thread);
void rt_hashes_thread_begins(long logical);

long long rt_untrack_containers(void *root);

int rt_call_as_outermost(void *callable, void *out_list);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "retrace_core._engine",
    '#include "engine.h"',
    # setuptools wants /-separated paths relative to setup.py, never absolute ones.
    sources=[f"csrc/{name}" for name in C_FILES],
    include_dirs=["csrc"],
    # The limited API hides what type patching and the tracer need.
    define_macros=[("_CFFI_NO_LIMITED_API", None)],
    py_limited_api=False,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
