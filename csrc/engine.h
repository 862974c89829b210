/* The C surface of retrace_core._engine; see build_engine.py for the cdef. */
#ifndef RETRACE_ENGINE_H
#define RETRACE_ENGINE_H

int rt_type_set_attribute(void *type, const char *name, void *value);

/* tracer.c: positions and stop conditions (see core/trace/ctracer.py) */
int rt_tracer_new(void *prefix_rules, void *on_stop, void *out_list, int monitoring);
int rt_tracer_can_monitor(void);
int rt_tracer_tool_id(void);
int rt_tracer_resume(void *tracer, long long position);
int rt_tracer_start(void *tracer);
void rt_tracer_stop(void *tracer);
long long rt_tracer_position(void *tracer);
long rt_tracer_depth(void *tracer, unsigned long thread_ident);
long rt_tracer_take_shallowest(void *tracer, unsigned long thread_ident);
int rt_tracer_set_watch_filter(void *tracer, void *frame, void *lines);
void rt_tracer_set_target(void *tracer, long long target);
int rt_tracer_set_breakpoints(void *tracer, void *breakpoints);
void rt_tracer_set_step(void *tracer, int has_thread, unsigned long thread, int has_depth, long max_depth);
void rt_tracer_set_stop_on_exception(void *tracer, int on);
void rt_tracer_set_remember(void *tracer, int breakpoints, int has_thread, unsigned long thread, int has_depth, long max_depth);
long long rt_tracer_last_hit(void *tracer);
void rt_tracer_clear_remembered(void *tracer);
void rt_tracer_pause(void *tracer, int pause);
int rt_tracer_sight(void *tracer, void *callback);

/* builtins.c: wrappers that are real built-in functions (see core/boundary/wrappers.py) */
int rt_builtin_new(void *callable, void *original, void *owner, void *module_name, int classmethod,
                   void *out_list);

/* outermost.c: the program with no frame of ours under it (see core/bootstrap/launch.py) */
int rt_call_as_outermost(void *callable, void *out_list);

/* lifetime.c: workers die with the controller */
int rt_die_with_parent(int signal_number);

/* signals.c: SIGTERM in a recorded process (see core/bootstrap/termination.py) */
int rt_sigterm_catch(void);
void rt_sigterm_flusher_running(int running);
int rt_sigterm_seen(void);
int rt_sigterm_release(void);

/* hashes.c: default hashes in the order the program first asks (see core/bootstrap/stable_hashes.py) */
int rt_hashes_install(void *guard, void *prefixes, void *alive);
void rt_hashes_program_begins(int numbers_per_thread);
void rt_hashes_thread_begins(long logical);

/* untrack.c */
long long rt_untrack_containers(void *root);

#endif
