/* The tracer over sys.monitoring (PEP 669), on Python 3.12 and later.
 *
 * On 3.12+ a trace function is itself built on sys.monitoring: every line, call and
 * return of every code object reaches it, through a frame object made for the purpose,
 * and it can only ignore what is not program code. Here the same events come straight
 * to C callbacks with the code object and a number, and a callback answers DISABLE for
 * code that is not the program's: the interpreter never reports that place again. So
 * library code runs near plain speed, and program code pays for its events only.
 *
 * Positions must stay those of the trace function (tracer.c) and of the Python reference
 * (core/trace/pytracer.py), event for event. CPython's own trace function over
 * sys.monitoring (Python/legacy_tracing.c) says which events those are: LINE, and a
 * backward JUMP within one line (a loop on one line) as a line event; PY_START, PY_RESUME
 * and PY_THROW as calls; PY_RETURN, PY_YIELD and PY_UNWIND as returns (the last without a
 * value); RAISE and STOP_ITERATION as exceptions.
 *
 * sys.monitoring is global where a trace function is per thread: a thread counts only after
 * the tracer started in it (rt_monitor_trace_here: a thread-local mark naming the tracer
 * and its trace generation, which stop() moves on). A DISABLE is kept per place, for every
 * tracer, so when another tracer (other rules) takes the callbacks, restart_events() lets
 * every place be decided again. The tool id is the highest free one (take_tool_id), and
 * core/trace/unseen.py hides it from the program's sys.monitoring.get_tool.
 *
 * Our own code calling program code (a namedtuple's __new__ from our codec) suppresses
 * what it runs, as in tracer.c; asking "who called this frame?" needs a frame object,
 * which sys.monitoring does not make, so each thread counts the frames of our code on its
 * stack (ThreadDepth.ours_active) and a frame is only asked for while there are some.
 */
#include "tracer.h"

#if PY_VERSION_HEX >= 0x030C0000

static PyObject *disable = NULL; /* sys.monitoring.DISABLE */
static int tool_id = -1;
static uint32_t registered_tracer = 0; /* whose callbacks are registered (0: none yet) */
static long events = 0; /* the events they are registered for */
/* initial-exec: read without a call to __tls_get_addr (a few bytes of the static TLS reserve) */
static __thread __attribute__((tls_model("initial-exec"))) uint32_t traced_by = 0, traced_generation = 0;

int rt_monitor_available(void)
{
    return 1;
}

int rt_monitor_tool_id(void)
{
    return tool_id;
}

void rt_monitor_trace_here(Tracer *t, int on)
{
    traced_by = on ? t->id : 0;
    traced_generation = on ? t->trace_generation : 0;
}

/* Did the tracer start in this thread (since its last stop)? */
static int traced_here(Tracer *t)
{
    return traced_by == t->id && traced_generation == t->trace_generation;
}

/* Does an event on this thread count now? (The callback checked the code is program code.) */
static int counts_here(Tracer *t)
{
    if (!traced_here(t) || t->paused > 0) {
        return 0;
    }
    if (t->suppressing > 0) {
        ThreadDepth *thread = rt_current_thread(t);
        return thread == NULL || thread->suppressed_by == NULL;
    }
    return 1;
}

#define DISABLED(local) ((local) ? Py_NewRef(disable) : Py_NewRef(Py_None))

/* ---- sightings ----
 *
 * A logpoint needs the value of an expression each time its line runs, not the position of
 * each run: positions count every line of program code, and counting is what makes a traced
 * replay slower than a plain one. While the tracer is stopped (the engine runs the program
 * untraced to an event) a sighting asks for LINE and JUMP events only, and every place that
 * is not a breakpoint's line answers DISABLE at its first event: the rest of the program runs
 * at plain speed. Each run of the line calls the sighting's callback with the frame; the
 * engine (control/untraced_runs.py, control/sightings.py) names the run by the events consumed before it and its count
 * since, which a traced run from that event turns into a position when someone asks.
 *
 * A run is what the traced tracer would count as a line event there (stops.c,
 * rt_sight_run), and a backward jump within the line. On 3.11 tracer.c sights over a trace
 * function instead.
 */

static PyObject *sighted(Tracer *t, PyCodeObject *code, CodeInfo *info, int line)
{
    PyFrameObject *frame;
    if (!rt_at_breakpoint(t, code, info, line)) {
        return Py_NewRef(disable);
    }
    frame = PyEval_GetFrame(); /* borrowed: the frame whose line runs */
    if (frame != NULL) {
        rt_sight_run(t, frame);
    }
    Py_RETURN_NONE;
}

/* ---- the callbacks; `self` is the tracer ---- */

static PyObject *on_line(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Tracer *t = (Tracer *)self;
    PyCodeObject *code = (PyCodeObject *)args[0];
    CodeInfo scratch, *info = rt_code_info(t, code, &scratch);
    if (!info->is_program) {
        return Py_NewRef(disable);
    }
    if (t->sighting) {
        return sighted(t, code, info, (int)PyLong_AsLong(args[1]));
    }
    if (counts_here(t)) {
        int line = t->line_map_on || t->line_checks ? (int)PyLong_AsLong(args[1]) : -1;
        if (rt_count_line(t, code, info, &scratch, line, NULL) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

/* A jump backwards to the line it is in is a line event (a loop on one line); any other
 * jump is not, wherever and whenever it is taken. */
static PyObject *on_jump(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Tracer *t = (Tracer *)self;
    PyCodeObject *code = (PyCodeObject *)args[0];
    CodeInfo scratch, *info = rt_code_info(t, code, &scratch);
    long from = PyLong_AsLong(args[1]), to = PyLong_AsLong(args[2]);
    int line;
    if (!info->is_program || to > from || (line = PyCode_Addr2Line(code, (int)to)) < 0
        || line != PyCode_Addr2Line(code, (int)from)) {
        return Py_NewRef(disable);
    }
    if (t->sighting) {
        return sighted(t, code, info, line);
    }
    if (counts_here(t) && rt_count_line(t, code, info, &scratch, line, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *started(Tracer *t, PyCodeObject *code, int local)
{
    CodeInfo scratch, *info = rt_code_info(t, code, &scratch);
    ThreadDepth *thread;
    if (t->sighting && local) {
        /* Asked for only so that the line a generator starts on is reported (rt_monitor_sight). */
        (void)rt_at_breakpoint(t, code, info, -1); /* no line: refreshes has_breakpoints */
        return info->is_program && info->has_breakpoints ? Py_NewRef(Py_None) : Py_NewRef(disable);
    }
    if (info->is_ours) {
        if (traced_here(t) && (thread = rt_current_thread(t)) != NULL) {
            thread->ours_active++;
        }
        Py_RETURN_NONE;
    }
    if (!info->is_program) {
        return DISABLED(local);
    }
    if (!counts_here(t) || (thread = rt_current_thread(t)) == NULL) {
        Py_RETURN_NONE;
    }
    if (thread->ours_active > 0) {
        PyFrameObject *frame = PyEval_GetFrame();
        if (frame != NULL && rt_called_by_us(t, frame)) {
            thread->suppressed_by = frame; /* identity only: never dereferenced */
            t->suppressing++;
            Py_RETURN_NONE;
        }
    }
    thread->depth++;
    Py_RETURN_NONE;
}

static PyObject *on_start(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return started((Tracer *)self, (PyCodeObject *)args[0], 1);
}

static PyObject *on_throw(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return started((Tracer *)self, (PyCodeObject *)args[0], 0);
}

/* `value` NULL: the frame leaves by an exception. */
static PyObject *returned(Tracer *t, PyCodeObject *code, PyObject *value, int local)
{
    CodeInfo scratch, *info = rt_code_info(t, code, &scratch);
    ThreadDepth *thread;
    if (info->is_ours) {
        if (traced_here(t) && (thread = rt_current_thread(t)) != NULL && thread->ours_active > 0) {
            thread->ours_active--;
        }
        Py_RETURN_NONE;
    }
    if (!info->is_program) {
        return DISABLED(local);
    }
    if (!traced_here(t) || (thread = rt_current_thread(t)) == NULL) {
        Py_RETURN_NONE;
    }
    if (thread->suppressed_by != NULL) {
        if (thread->suppressed_by == PyEval_GetFrame()) {
            thread->suppressed_by = NULL;
            t->suppressing--;
        }
        Py_RETURN_NONE;
    }
    if (t->paused > 0) {
        Py_RETURN_NONE;
    }
    if (rt_count_return(t, thread, value, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *on_return(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return returned((Tracer *)self, (PyCodeObject *)args[0], args[2], 1);
}

static PyObject *on_unwind(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return returned((Tracer *)self, (PyCodeObject *)args[0], NULL, 0);
}

static PyObject *raised(Tracer *t, PyCodeObject *code, int local)
{
    CodeInfo scratch, *info = rt_code_info(t, code, &scratch);
    if (!info->is_program) {
        return DISABLED(local);
    }
    if (t->stop_on_exception && counts_here(t) && rt_call_on_stop(t, REASON_EXCEPTION, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *on_raise(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return raised((Tracer *)self, (PyCodeObject *)args[0], 0);
}

static PyObject *on_stop_iteration(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return raised((Tracer *)self, (PyCodeObject *)args[0], 1);
}

/* Every callback is called with at least (code, offset); these with a third argument. */
#define CALLBACK(name, function) {name, (PyCFunction)(void (*)(void))function, METH_FASTCALL, NULL}
static PyMethodDef callbacks[] = {
    CALLBACK("LINE", on_line),
    CALLBACK("JUMP", on_jump),
    CALLBACK("PY_START", on_start),
    CALLBACK("PY_RESUME", on_start),
    CALLBACK("PY_THROW", on_throw),
    CALLBACK("PY_RETURN", on_return),
    CALLBACK("PY_YIELD", on_return),
    CALLBACK("PY_UNWIND", on_unwind),
    CALLBACK("RAISE", on_raise),
    CALLBACK("STOP_ITERATION", on_stop_iteration),
    {NULL, NULL, 0, NULL},
};

/* ---- taking a tool id, registering, switching ---- */

static int call(PyObject *monitoring, const char *name, const char *format, ...)
{
    va_list va;
    PyObject *function = PyObject_GetAttrString(monitoring, name), *args, *result = NULL;
    if (function == NULL) {
        return -1;
    }
    va_start(va, format);
    args = Py_VaBuildValue(format, va);
    va_end(va);
    if (args != NULL) {
        result = PyObject_CallObject(function, args);
        Py_DECREF(args);
    }
    Py_DECREF(function);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

/* The highest free id, from 5 (OPTIMIZER_ID) down: programs that use sys.monitoring take
 * the ids named for them (0 for a debugger, 1 for coverage, 2 for a profiler), and a
 * program replayed must get the id it got when recorded. Once per process: a forked
 * child keeps its parent's. */
static int take_tool_id(PyObject *monitoring)
{
    for (int id = 5; id >= 0 && tool_id < 0; id--) {
        PyObject *name = PyObject_CallMethod(monitoring, "get_tool", "i", id);
        if (name == NULL) {
            return -1;
        }
        int free = name == Py_None;
        Py_DECREF(name);
        if (free && call(monitoring, "use_tool_id", "(is)", id, "retrace") == 0) {
            tool_id = id;
        }
        PyErr_Clear();
    }
    return tool_id < 0 ? -1 : 0;
}

static int register_callbacks(Tracer *t, PyObject *monitoring, long *events)
{
    PyObject *names = PyObject_GetAttrString(monitoring, "events");
    int result = names == NULL ? -1 : 0;
    *events = 0;
    for (PyMethodDef *def = callbacks; def->ml_name != NULL && result == 0; def++) {
        PyObject *event = PyObject_GetAttrString(names, def->ml_name);
        PyObject *function = event ? PyCFunction_New(def, (PyObject *)t) : NULL;
        result = -1;
        if (function != NULL && call(monitoring, "register_callback", "(iOO)", tool_id, event, function) == 0) {
            *events |= PyLong_AsLong(event);
            result = 0;
        }
        Py_XDECREF(function);
        Py_XDECREF(event);
    }
    Py_XDECREF(names);
    if (result == 0 && registered_tracer != 0 && registered_tracer != t->id) {
        result = call(monitoring, "restart_events", "()"); /* other rules: decide every place again */
    }
    registered_tracer = result == 0 ? t->id : 0;
    return result;
}

/* DISABLE known and a tool id taken (once per process). */
static int ready(PyObject *monitoring)
{
    if (disable == NULL) {
        disable = PyObject_GetAttrString(monitoring, "DISABLE");
    }
    return disable != NULL && take_tool_id(monitoring) == 0;
}

/* Events on (callbacks of `t`) or off for every thread. */
int rt_monitor_switch(Tracer *t, int on)
{
    PyObject *monitoring = PySys_GetObject("monitoring"); /* borrowed */
    int result = -1;
    if (monitoring == NULL) {
        return -1;
    }
    if (ready(monitoring)) {
        if (!on) {
            result = call(monitoring, "set_events", "(ii)", tool_id, 0);
        } else if (registered_tracer == t->id || register_callbacks(t, monitoring, &events) == 0) {
            result = call(monitoring, "set_events", "(il)", tool_id, events);
        }
    }
    PyErr_Clear();
    return result;
}

/* A sighting's events (LINE and JUMP, `t`'s callbacks) on, or off: then every place it
 * disabled is enabled again for the tracer, which counts every line of program code.
 *
 * PY_START too, though a sighting needs no calls: on 3.13, without PY_START the first line
 * of a generator that starts on the line it was made on (`sum(f(x) for x in xs)`, all on one
 * line) is no LINE event, so a logpoint there missed a run a traced one lists. It is kept
 * (answered None) only in code that holds a breakpoint's line: a DISABLEd PY_START loses
 * that line again. */
int rt_monitor_sight(Tracer *t, int on)
{
    static long sight_events = 0;
    PyObject *monitoring = PySys_GetObject("monitoring"); /* borrowed */
    int result = -1;
    if (monitoring == NULL || !ready(monitoring)) {
        PyErr_Clear();
        return -1;
    }
    if (!on) {
        if (call(monitoring, "set_events", "(ii)", tool_id, 0) == 0) {
            result = call(monitoring, "restart_events", "()");
        }
    } else if (registered_tracer == t->id || register_callbacks(t, monitoring, &events) == 0) {
        if (sight_events == 0) {
            PyObject *names = PyObject_GetAttrString(monitoring, "events");
            PyObject *line = names ? PyObject_GetAttrString(names, "LINE") : NULL;
            PyObject *jump = names ? PyObject_GetAttrString(names, "JUMP") : NULL;
            PyObject *start = names ? PyObject_GetAttrString(names, "PY_START") : NULL;
            sight_events = line && jump && start ? PyLong_AsLong(line) | PyLong_AsLong(jump) | PyLong_AsLong(start) : 0;
            Py_XDECREF(line);
            Py_XDECREF(jump);
            Py_XDECREF(start);
            Py_XDECREF(names);
        }
        if (sight_events > 0) {
            result = call(monitoring, "set_events", "(il)", tool_id, sight_events);
        }
    }
    PyErr_Clear();
    return result;
}

#else /* before 3.12: no sys.monitoring; tracer.c's trace function only */

int rt_monitor_available(void)
{
    return 0;
}

int rt_monitor_tool_id(void)
{
    return -1;
}

int rt_monitor_switch(Tracer *t, int on)
{
    return -1;
}

void rt_monitor_trace_here(Tracer *t, int on)
{
}

int rt_monitor_sight(Tracer *t, int on)
{
    return -1;
}

#endif
