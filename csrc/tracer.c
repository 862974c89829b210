/* The tracer: positions, per-thread depth and stop conditions, in a C trace function.
 *
 * A position is the number of line events of program code since the tracer was made;
 * program code is decided by prefix rules once per code object (codeinfo.c, and
 * core/trace/scope.py for the rule). The trace function, installed per
 * thread with PyEval_SetTrace, bumps the position on each such line event and checks
 * the stop conditions in C (stops.c); it calls into Python (on_stop) only when one holds.
 * Call and return events of program code keep each thread's depth (threads.c).
 * core/trace/pytracer.py is the reference this must agree with, event for event.
 * On 3.12 and later the same tracer takes its events from sys.monitoring instead
 * (monitor.c), unless made with monitoring off; start and stop below serve both.
 *
 * The tracer object is a small GC-tracked heap type: it is the trace function's `obj`
 * (so the hot path reaches its state with one cast), and the Python wrapper holds it as
 * a real reference, so a cycle through on_stop is collectable.
 *
 * Fork: all state lives in the tracer object and in co_extra, which a fork copies as
 * they are; the statics below are set once and stay valid in a child.
 */
#include "tracer.h"
#include <unistd.h>
#include "engine.h"

static const char *REASON_NAMES[REASON_COUNT] = {"target", "breakpoint", "step", "exception", "return"};
static PyTypeObject *tracer_type = NULL;
static uint32_t next_tracer_id = 1;

/* ---- the trace function ---- */

void rt_untrace_here(Tracer *t)
{
    if (t->monitoring) {
        rt_monitor_trace_here(t, 0);
        return;
    }
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    /* The program's own tracer, if it had one, goes on tracing without ours. */
    ThreadDepth *thread = rt_current_thread(t);
    PyEval_SetTrace(thread ? thread->program_func : NULL, thread ? thread->program_obj : NULL);
    PyErr_Restore(type, value, traceback);
}

static int trace_own(Tracer *t, PyFrameObject *frame, int what, PyObject *arg);

/* Whether the calling thread has a trace function of the program's that ours calls on. */
static int program_tracer_here(Tracer *t)
{
    ThreadDepth *thread = rt_current_thread(t);
    return thread != NULL && thread->program_func != NULL;
}

/* A program that sets a C trace function of its own (coverage's CTracer under pytest --cov)
 * takes CPython 3.11's one trace slot from ours; recorded, its tracer saw every event, and
 * what it does with them reaches the output (coverage's report). So ours takes the slot
 * back (keep_slot, at the next event) and calls the program's on, event for event. */
static int trace(PyObject *self, PyFrameObject *frame, int what, PyObject *arg)
{
    Tracer *t = (Tracer *)self;
    ThreadDepth *thread = rt_current_thread(t);
    if (thread != NULL && thread->program_func != NULL) {
        PyObject *program_obj = thread->program_obj;
        Py_XINCREF(program_obj);
        int failed = thread->program_func(program_obj, frame, what, arg);
        Py_XDECREF(program_obj);
        if (failed) {
            return -1;
        }
    }
    return trace_own(t, frame, what, arg);
}

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
/* 3.11's PyFrameObject begins so (Include/internal/pycore_frame.h): f_trace_lines is read
 * at every line of a traced frame, and written here without a Python attribute call. */
typedef struct {
    PyObject_HEAD
    PyFrameObject *f_back;
    void *f_frame;
    PyObject *f_trace;
    int f_lineno;
    char f_trace_lines;
} FrameHead311;
#endif

/* Whether the interpreter calls the trace function at each line of `frame`. */
static void set_trace_lines(PyFrameObject *frame, int on)
{
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
    ((FrameHead311 *)frame)->f_trace_lines = (char)on;
#else
    if (PyObject_SetAttrString((PyObject *)frame, "f_trace_lines", on ? Py_True : Py_False) < 0) {
        PyErr_Clear();
    }
#endif
}

static int trace_own(Tracer *t, PyFrameObject *frame, int what, PyObject *arg)
{
    PyCodeObject *code;
    CodeInfo scratch, *info;
    ThreadDepth *thread;
    int result = 0;
    if (!t->active) {
        rt_untrace_here(t); /* stop() was called on another thread */
        return 0;
    }
    if (what > PyTrace_RETURN) {
        return 0;
    }
    if (t->suppressing > 0 && (thread = rt_current_thread(t)) != NULL && thread->suppressed_by != NULL) {
        /* Inside program code that our own code called: nothing counts until it returns. */
        if (what == PyTrace_RETURN && thread->suppressed_by == frame) {
            thread->suppressed_by = NULL;
            t->suppressing--;
        }
        return 0;
    }
    if (t->paused > 0) {
        return 0;
    }
    code = PyFrame_GetCode(frame);
    info = rt_code_info(t, code, &scratch);
    if (what == PyTrace_CALL && info->is_program && rt_called_by_us(t, frame)) {
        if ((thread = rt_current_thread(t)) != NULL) {
            thread->suppressed_by = frame;
            t->suppressing++;
        }
        Py_DECREF(code);
        return 0;
    }
    if (what == PyTrace_CALL && !info->is_program && !program_tracer_here(t)) {
        /* Not program code: the interpreter need not call us for its lines at all (unless
         * the program's own tracer is called on: it asked for them). */
        set_trace_lines(frame, 0);
    }
    if (info->is_program) {
        switch (what) {
        case PyTrace_LINE:
            result = rt_count_line(t, code, info, &scratch,
                                   t->line_map_on || t->line_checks ? PyFrame_GetLineNumber(frame) : -1, frame);
            break;
        case PyTrace_CALL:
            /* A sighting may have turned its lines off (a generator it began, resumed now). */
            set_trace_lines(frame, 1);
            if ((thread = rt_current_thread(t)) != NULL) {
                thread->depth++;
            }
            break;
        case PyTrace_RETURN:
            result = rt_count_return(t, rt_current_thread(t), arg, frame);
            break;
        case PyTrace_EXCEPTION:
            if (t->stop_on_exception) {
                result = rt_call_on_stop(t, REASON_EXCEPTION, frame);
            }
            break;
        }
    }
    Py_DECREF(code);
    return result;
}

static void update_line_checks(Tracer *t)
{
    t->line_checks = t->target >= 0 || t->breakpoint_count > 0 || t->step.on
                     || t->remember_breakpoints || t->remember.on;
}

/* ---- the tracer type ---- */

static void clear_breakpoints(Tracer *t)
{
    for (Py_ssize_t i = 0; i < t->breakpoint_count; i++) {
        Py_DECREF(t->breakpoints[i].filename);
    }
    PyMem_Free(t->breakpoints);
    t->breakpoints = NULL;
    t->breakpoint_count = 0;
    Py_CLEAR(t->breakpoint_files);
}

static int tracer_traverse(Tracer *t, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(t));
    Py_VISIT(t->on_stop);
    Py_VISIT(t->returns);
    Py_VISIT(t->watch_frame);
    Py_VISIT(t->watch_code);
    for (Py_ssize_t i = 0; i < t->thread_count; i++) {
        Py_VISIT(t->threads[i].program_obj);
    }
    Py_VISIT(t->sight_callback);
    return 0;
}

static int tracer_clear(Tracer *t)
{
    Py_CLEAR(t->on_stop);
    Py_CLEAR(t->returns);
    Py_CLEAR(t->watch_frame);
    Py_CLEAR(t->watch_code);
    for (Py_ssize_t i = 0; i < t->thread_count; i++) {
        t->threads[i].program_func = NULL;
        Py_CLEAR(t->threads[i].program_obj);
    }
    Py_CLEAR(t->sight_callback);
    return 0;
}

static void tracer_dealloc(Tracer *t)
{
    PyTypeObject *type = Py_TYPE(t);
    PyObject_GC_UnTrack(t);
    tracer_clear(t);
    Py_CLEAR(t->rules);
    for (int i = 0; i < REASON_COUNT; i++) {
        Py_CLEAR(t->reasons[i]);
    }
    clear_breakpoints(t);
    rt_linemap_clear(t);
    PyMem_RawFree(t->event_positions);
    PyMem_RawFree(t->threads);
    PyMem_Free(t->watch_lines);
    type->tp_free((PyObject *)t);
    Py_DECREF(type);
}

static void forget_program_tracer(ThreadDepth *thread)
{
    thread->program_func = NULL;
    Py_CLEAR(thread->program_obj);
}

/* Before ours goes on the calling thread: a C trace function already there is the
 * program's (ours is never left behind), and ours calls it on, on this thread. */
static void adopt_program_tracer(ThreadDepth *thread)
{
    PyThreadState *state = PyThreadState_Get();
    if (state->c_tracefunc == NULL || state->c_tracefunc == trace) {
        return;
    }
    forget_program_tracer(thread);
    thread->program_func = state->c_tracefunc;
    thread->program_obj = Py_XNewRef(state->c_traceobj);
}

/* At each event of an engine run on 3.11 (control/engine.py): where ours was put on this
 * thread and the program has since set its own trace function (or cleared the slot,
 * coverage's stop()), ours takes the slot back, calling the program's on if it set one.
 * The lines run between the program's call and this event were not counted: the same
 * lines in every run, so positions agree. */
static PyObject *keep_slot(PyObject *self, PyObject *unused)
{
    Tracer *t = (Tracer *)self;
    PyThreadState *state = PyThreadState_Get();
    if (!t->active || t->monitoring || state->c_tracefunc == trace) {
        Py_RETURN_NONE;
    }
    ThreadDepth *thread = rt_current_thread(t);
    if (thread == NULL || !thread->installed) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    if (state->c_tracefunc == NULL) {
        forget_program_tracer(thread); /* the program stopped its tracer: ours goes on alone */
    } else {
        adopt_program_tracer(thread);
    }
    PyEval_SetTrace(trace, (PyObject *)t);
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef tracer_methods[] = {
    {"keep_slot", keep_slot, METH_NOARGS, "Take the trace slot back from the program's own tracer (3.11)."},
    {"note_event", rt_note_event, METH_NOARGS, "Note the position of the event being consumed (indexing)."},
    {"take_event_positions", rt_take_event_positions, METH_NOARGS, "The positions noted, as a list."},
    {"restart_events", rt_restart_events, METH_NOARGS, "Events start again from 1 (a forked child's tape)."},
    {"note_break", rt_note_break, METH_NOARGS, "A stretch ends here without an event; the next one's number."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot tracer_slots[] = {
    {Py_tp_methods, tracer_methods},
    {Py_tp_dealloc, tracer_dealloc},
    {Py_tp_traverse, tracer_traverse},
    {Py_tp_clear, tracer_clear},
    {0, NULL},
};

static PyType_Spec tracer_spec = {
    "retrace_core._engine.Tracer", sizeof(Tracer), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION, tracer_slots,
};

/* ---- the cdef surface ---- */

int rt_tracer_new(void *prefix_rules, void *on_stop, void *out_list, int monitoring)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *excluded = (PyObject *)prefix_rules;
    Tracer *t = NULL;
    int result = -1;
    if (!PyTuple_Check(excluded) || !PyList_Check((PyObject *)out_list)) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(excluded); i++) {
        PyObject *rule = PyTuple_GET_ITEM(excluded, i);
        if (!PyTuple_Check(rule) || PyTuple_GET_SIZE(rule) != 2
            || !PyUnicode_Check(PyTuple_GET_ITEM(rule, 0))) {
            goto done;
        }
    }
    if (rt_codeinfo_init() < 0 || (monitoring && !rt_monitor_available())) {
        goto done;
    }
    if (tracer_type == NULL
        && (tracer_type = (PyTypeObject *)PyType_FromSpec(&tracer_spec)) == NULL) {
        goto done;
    }
    t = (Tracer *)PyType_GenericAlloc(tracer_type, 0); /* zero-filled */
    if (t == NULL) {
        goto done;
    }
    t->id = next_tracer_id++;
    t->rules = Py_NewRef(excluded);
    t->on_stop = Py_NewRef((PyObject *)on_stop);
    t->target = -1;
    t->last_hit = -1;
    t->return_depth = -1;
    t->current_thread = -1;
    t->pid = getpid();
    t->monitoring = monitoring;
    t->trace_generation = 1;
    rt_linemap_init(t);
    for (int i = 0; i < REASON_COUNT; i++) {
        if ((t->reasons[i] = PyUnicode_InternFromString(REASON_NAMES[i])) == NULL) {
            goto done;
        }
    }
    result = PyList_Append((PyObject *)out_list, (PyObject *)t);
done:
    Py_XDECREF(t);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        result = -1;
    }
    PyGILState_Release(gil);
    return result;
}

/* Can tracers use sys.monitoring here (3.12 and later)? */
int rt_tracer_can_monitor(void)
{
    return rt_monitor_available();
}

/* The sys.monitoring tool id the tracers hold (-1: none). */
int rt_tracer_tool_id(void)
{
    return rt_monitor_tool_id();
}

/* Starting or resuming in the middle of the run: the calling thread's depth and suppression
 * as the call and return events of a traced run would have left them. Walking from the newest
 * frame out, the oldest program frame that our own code called suppresses everything
 * newer (it got no depth when it was called; see trace()), and only program frames older
 * than it count. */
static void thread_as_if_traced(Tracer *t, ThreadDepth *thread)
{
    long depth = 0, ours_active = 0;
    PyFrameObject *suppressed_by = NULL;
    PyFrameObject *frame = PyEval_GetFrame();
    Py_XINCREF(frame);
    while (frame != NULL) {
        CodeInfo scratch;
        PyCodeObject *code = PyFrame_GetCode(frame);
        PyFrameObject *back = PyFrame_GetBack(frame);
        CodeInfo *info = rt_code_info(t, code, &scratch);
        ours_active += info->is_ours;
        if (info->is_program) {
            if (rt_called_by_us(t, frame)) {
                suppressed_by = frame; /* identity only, as in trace(): never dereferenced */
                depth = 0;
            } else {
                depth++;
            }
        }
        Py_DECREF(code);
        Py_DECREF(frame);
        frame = back;
    }
    if (thread->suppressed_by != NULL) {
        t->suppressing--;
    }
    thread->suppressed_by = suppressed_by;
    t->suppressing += suppressed_by != NULL;
    thread->depth = depth;
    thread->ours_active = ours_active;
}

/* Trace the calling thread from here: the frames already on its stack get line and return
 * events from now on, and count towards its depth as a traced run would have counted them. */
static int trace_from_here(Tracer *t, int set_position, long long position)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    ThreadDepth *thread = rt_current_thread(t);
    int result = -1;
    if (t->sighting) {
        rt_tracer_sight(t, NULL);
    }
    if (thread != NULL) {
        thread_as_if_traced(t, thread);
        if (set_position) {
            t->position = position;
        }
        t->active = 1;
        if (!t->monitoring) {
            adopt_program_tracer(thread);
            PyEval_SetTrace(trace, (PyObject *)t);
            thread->installed = 1;
            result = 0;
        } else if (rt_monitor_switch(t, 1) == 0) {
            rt_monitor_trace_here(t, 1);
            result = 0;
        }
    }
    if (PyErr_Occurred()) {
        PyErr_Clear();
        result = -1;
    }
    PyGILState_Release(gil);
    return result;
}

int rt_tracer_start(void *tracer)
{
    return trace_from_here((Tracer *)tracer, 0, 0);
}

/* After a stretch run untraced (the engine's fast-forward to an event whose position the
 * indexing pass measured): trace on, counting from `position`. */
int rt_tracer_resume(void *tracer, long long position)
{
    return trace_from_here((Tracer *)tracer, 1, position);
}

void rt_tracer_stop(void *tracer)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    t->active = 0;
    if (t->monitoring) {
        t->trace_generation++; /* no thread counts until it starts again */
        rt_monitor_switch(t, 0);
    } else if (PyThreadState_Get()->c_traceobj == (PyObject *)t) {
        ThreadDepth *thread = rt_current_thread(t); /* the program's tracer runs on untraced */
        PyEval_SetTrace(thread ? thread->program_func : NULL, thread ? thread->program_obj : NULL);
    }
    PyErr_Clear();
    PyGILState_Release(gil);
}

/* A sighting over a trace function (3.11; monitor.c has the one over sys.monitoring): line
 * events only in frames of code that holds a breakpoint's line. Every instruction still pays
 * for tracing on 3.11, but nothing is counted. A program frame whose lines are turned off
 * here gets them back when the sighting ends (the frames on the stack then) or when the
 * tracer sees it called or resumed (a generator begun here): trace_own. */
static int sight_trace(PyObject *self, PyFrameObject *frame, int what, PyObject *arg)
{
    Tracer *t = (Tracer *)self;
    CodeInfo scratch, *info;
    PyCodeObject *code;
    if (what != PyTrace_CALL && what != PyTrace_LINE) {
        return 0;
    }
    code = PyFrame_GetCode(frame);
    info = rt_code_info(t, code, &scratch);
    if (what == PyTrace_CALL) {
        (void)rt_at_breakpoint(t, code, info, -1); /* no line: refreshes has_breakpoints */
        if (!info->is_program || !info->has_breakpoints) {
            set_trace_lines(frame, 0);
        }
    } else if (info->is_program && rt_at_breakpoint(t, code, info, PyFrame_GetLineNumber(frame))) {
        rt_sight_run(t, frame);
    }
    Py_DECREF(code);
    PyErr_Clear();
    return 0;
}

/* ---- 3.11: the trace function only while a frame of the line's code runs ----
 *
 * On 3.11 a trace function set on a thread makes every instruction of every frame take the
 * interpreter's tracing path (about 2x on a loop) even where no line event is wanted. So a
 * sighting sets sight_trace only while a frame whose code holds a breakpoint's line runs: a
 * frame evaluation function (PEP 523) sees each frame start or resume, sets the trace
 * function for such a frame and clears it for any other, and puts back what was there when
 * the frame leaves. The frames on the stack when the sighting starts are not evaluated
 * again: the trace function is set from the start if any of them holds the line. The
 * program setting a trace function of its own meanwhile ends the switching, and the
 * sighting reports that it did not see the whole stretch (the engine traces it). A frame
 * evaluation function of someone else's (a JIT) is left alone: the sighting then sets
 * sight_trace on the whole thread, as on other versions. */

static int code_sighted(Tracer *t, PyCodeObject *code)
{
    CodeInfo scratch, *info = rt_code_info(t, code, &scratch);
    (void)rt_at_breakpoint(t, code, info, -1); /* no line: refreshes has_breakpoints */
    return info->is_program && info->has_breakpoints;
}

static void set_sight_trace(Tracer *t, int on)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback); /* the frame may be leaving by an exception */
    PyEval_SetTrace(on ? sight_trace : NULL, on ? (PyObject *)t : NULL);
    PyErr_Clear();
    PyErr_Restore(type, value, traceback);
}

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
struct _PyInterpreterFrame;
PyAPI_FUNC(PyObject *) _PyEval_EvalFrameDefault(PyThreadState *, struct _PyInterpreterFrame *, int);

/* 3.11's _PyInterpreterFrame begins so (Include/internal/pycore_frame.h) */
typedef struct {
    PyObject *f_func, *f_globals, *f_builtins, *f_locals;
    PyCodeObject *f_code;
} InterpreterFrameHead311;

static Tracer *eval_sighting = NULL; /* the sighting the frame evaluation function serves */
/* One more at each sighting: a frame entered during an earlier one puts back what it found
 * only in the sighting it began in (a later one set the trace function from its own stack). */
static unsigned long sight_generation = 0;

static PyObject *sight_eval(PyThreadState *state, struct _PyInterpreterFrame *frame, int throwflag)
{
    Tracer *t = eval_sighting;
    unsigned long generation = sight_generation;
    int was, wanted, pending;
    PyObject *result, *type = NULL, *value = NULL, *traceback = NULL;
    if (t == NULL) {
        return _PyEval_EvalFrameDefault(state, frame, throwflag);
    }
    if (state->c_tracefunc != NULL && state->c_tracefunc != sight_trace) {
        eval_sighting = NULL; /* the program's own trace function: hands off */
        t->sight_lost = 1;
        return _PyEval_EvalFrameDefault(state, frame, throwflag);
    }
    /* A generator's throw() comes with its exception set: keep it from our calls, which
     * clear errors of their own (losing it made "error return without exception set"). */
    pending = PyErr_Occurred() != NULL;
    if (pending) {
        PyErr_Fetch(&type, &value, &traceback);
    }
    was = state->c_tracefunc == sight_trace;
    wanted = code_sighted(t, ((InterpreterFrameHead311 *)frame)->f_code);
    if (was != wanted) {
        set_sight_trace(t, wanted);
    }
    if (pending) {
        PyErr_Restore(type, value, traceback);
    }
    result = _PyEval_EvalFrameDefault(state, frame, throwflag);
    if (was != wanted && eval_sighting == t && sight_generation == generation
        && (state->c_tracefunc == NULL || state->c_tracefunc == sight_trace)) {
        set_sight_trace(t, was);
    }
    return result;
}

/* Start (on) or end a sighting over the trace function; -1: it could not start, or, ending,
 * it did not see the whole stretch. */
static int sight_by_trace(Tracer *t, int on)
{
    PyThreadState *state = PyThreadState_Get();
    PyInterpreterState *interp = state->interp;
    if (on) {
        int here = 0;
        t->sight_lost = 0;
        if (_PyInterpreterState_GetEvalFrameFunc(interp) != _PyEval_EvalFrameDefault) {
            set_sight_trace(t, 1); /* someone else's frame evaluation: the whole thread */
            return 0;
        }
        PyFrameObject *frame = PyEval_GetFrame(); /* borrowed; a reference of ours below */
        Py_XINCREF(frame);
        while (frame != NULL) {
            PyCodeObject *code = PyFrame_GetCode(frame);
            PyFrameObject *back = PyFrame_GetBack(frame);
            here = here || code_sighted(t, code);
            Py_DECREF(code);
            Py_DECREF(frame);
            frame = back;
        }
        eval_sighting = t;
        sight_generation++;
        _PyInterpreterState_SetEvalFrameFunc(interp, sight_eval);
        if (here) {
            set_sight_trace(t, 1);
        }
        return 0;
    }
    if (_PyInterpreterState_GetEvalFrameFunc(interp) == sight_eval) {
        _PyInterpreterState_SetEvalFrameFunc(interp, _PyEval_EvalFrameDefault);
    }
    eval_sighting = NULL;
    if (state->c_tracefunc == sight_trace && state->c_traceobj == (PyObject *)t) {
        set_sight_trace(t, 0);
    } else if (state->c_tracefunc != NULL) {
        t->sight_lost = 1;
    }
    return t->sight_lost ? -1 : 0;
}
#else
/* 3.12 and later: the trace function all along (a sighting over sys.monitoring is the fast
 * one; this is for the "settrace" tracer kind, which compares the two). */
static int sight_by_trace(Tracer *t, int on)
{
    PyThreadState *state = PyThreadState_Get();
    if (on) {
        set_sight_trace(t, 1);
        return 0;
    }
    if (state->c_tracefunc != sight_trace || state->c_traceobj != (PyObject *)t) {
        return -1;
    }
    set_sight_trace(t, 0);
    return 0;
}
#endif

/* The end of a sighting: program frames on this thread's stack count their lines again. */
static void restore_program_lines(Tracer *t)
{
    PyFrameObject *frame = PyEval_GetFrame(); /* borrowed; a reference of ours below */
    Py_XINCREF(frame);
    while (frame != NULL) {
        CodeInfo scratch, *info;
        PyCodeObject *code = PyFrame_GetCode(frame);
        PyFrameObject *back = PyFrame_GetBack(frame);
        info = rt_code_info(t, code, &scratch);
        if (info->is_program) {
            set_trace_lines(frame, 1);
        }
        Py_DECREF(code);
        Py_DECREF(frame);
        frame = back;
    }
}

/* A sighting: while the tracer is stopped, `callback` is called with the frame at each run
 * of a breakpoint's line; NULL ends it. -1: there is no sighting here (the tracer runs, the
 * program's own trace function holds 3.11's slot), or, ending it, it did not see the whole
 * stretch (the program set a trace function meanwhile). */
int rt_tracer_sight(void *tracer, void *callback)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    PyThreadState *state = PyThreadState_Get();
    int result = -1;
    if (callback == NULL) {
        if (t->sighting && t->monitoring) {
            result = rt_monitor_sight(t, 0);
        } else if (t->sighting) {
            result = sight_by_trace(t, 0);
            restore_program_lines(t);
        }
        t->sighting = 0;
        Py_CLEAR(t->sight_callback);
    } else if (!t->active && !t->sighting && (t->monitoring || state->c_tracefunc == NULL)) {
        Py_XSETREF(t->sight_callback, Py_NewRef((PyObject *)callback));
        t->sighting = 1;
        if (t->monitoring) {
            result = rt_monitor_sight(t, 1);
        } else {
            result = sight_by_trace(t, 1);
        }
        if (result != 0) {
            t->sighting = 0;
            Py_CLEAR(t->sight_callback);
        }
    }
    PyErr_Clear();
    PyGILState_Release(gil);
    return result;
}

/* Plain reads, without the GIL: one aligned word, written only under the GIL. */
long long rt_tracer_position(void *tracer)
{
    return ((Tracer *)tracer)->position;
}

long rt_tracer_depth(void *tracer, unsigned long thread_ident)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    long depth = rt_thread_depth(t, thread_ident);
    PyGILState_Release(gil);
    return depth;
}

long rt_tracer_take_shallowest(void *tracer, unsigned long thread_ident)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    long shallowest = t->shallowest;
    t->shallowest = rt_thread_depth(t, thread_ident); /* from here on: the depth now, and what it returns to */
    PyGILState_Release(gil);
    return shallowest;
}

void rt_tracer_set_target(void *tracer, long long target)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    t->target = target;
    update_line_checks(t);
    PyGILState_Release(gil);
}

/* `breakpoints`: a list of (str, int) tuples, checked by the Python wrapper. */
int rt_tracer_set_breakpoints(void *tracer, void *breakpoints)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    PyObject *list = (PyObject *)breakpoints;
    Py_ssize_t n = PyList_Check(list) ? PyList_GET_SIZE(list) : 0;
    Breakpoint *array = n ? PyMem_Calloc(n, sizeof(Breakpoint)) : NULL;
    PyObject *files = n ? PySet_New(NULL) : NULL;
    Py_ssize_t filled = 0;
    int result = -1;
    if (n && (array == NULL || files == NULL)) {
        goto fail;
    }
    for (; filled < n; filled++) {
        PyObject *item = PyList_GET_ITEM(list, filled);
        PyObject *filename;
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            goto fail;
        }
        filename = PyTuple_GET_ITEM(item, 0);
        if (!PyUnicode_Check(filename) || PySet_Add(files, filename) < 0) {
            goto fail;
        }
        array[filled].line = PyLong_AsLong(PyTuple_GET_ITEM(item, 1));
        if (array[filled].line == -1 && PyErr_Occurred()) {
            goto fail;
        }
        array[filled].filename = Py_NewRef(filename);
    }
    clear_breakpoints(t);
    t->breakpoints = array;
    t->breakpoint_count = n;
    t->breakpoint_files = files;
    t->breakpoint_generation++;
    update_line_checks(t);
    result = 0;
    goto done;
fail:
    for (Py_ssize_t i = 0; i < filled; i++) {
        Py_XDECREF(array[i].filename);
    }
    PyMem_Free(array);
    Py_XDECREF(files);
    PyErr_Clear();
done:
    PyGILState_Release(gil);
    return result;
}

static void set_predicate(DepthPredicate *p, int has_thread, unsigned long thread,
                          int has_depth, long max_depth)
{
    p->on = has_thread || has_depth;
    p->any_thread = !has_thread;
    p->thread = thread;
    p->any_depth = !has_depth;
    p->max_depth = max_depth;
}

void rt_tracer_set_step(void *tracer, int has_thread, unsigned long thread, int has_depth,
                        long max_depth)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    set_predicate(&t->step, has_thread, thread, has_depth, max_depth);
    update_line_checks(t);
    PyGILState_Release(gil);
}

void rt_tracer_set_stop_on_exception(void *tracer, int on)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    ((Tracer *)tracer)->stop_on_exception = on;
    PyGILState_Release(gil);
}

void rt_tracer_set_remember(void *tracer, int breakpoints, int has_thread, unsigned long thread,
                            int has_depth, long max_depth)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    t->remember_breakpoints = breakpoints;
    set_predicate(&t->remember, has_thread, thread, has_depth, max_depth);
    update_line_checks(t);
    PyGILState_Release(gil);
}

/* Hand the returns of program frames at `depth` or shallower in `thread` to on_stop, their values
 * appended to the list `returns` first; depth -1: none. */
void rt_tracer_set_returns(void *tracer, unsigned long thread, long depth, void *returns)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    t->return_thread = thread;
    t->return_depth = depth;
    Py_XSETREF(t->returns, Py_XNewRef((PyObject *)returns));
    PyGILState_Release(gil);
}

/* Filter the step in `frame` (NULL: no filter) to the lines in the list `lines` and the line
 * after each (watch_skips). 0, or -1 when out of memory (no filter then). */
int rt_tracer_set_watch_filter(void *tracer, void *frame, void *lines)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    int result = 0;
    Py_CLEAR(t->watch_frame);
    Py_CLEAR(t->watch_code);
    PyMem_Free(t->watch_lines);
    t->watch_lines = NULL;
    t->watch_line_count = 0;
    t->watch_after_store = 0;
    if (frame != NULL) {
        PyObject *list = (PyObject *)lines;
        long highest = 0;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
            long line = PyLong_AsLong(PyList_GET_ITEM(list, i));
            if (line > highest && line < (1L << 24)) {
                highest = line;
            }
        }
        t->watch_lines = PyMem_Calloc((size_t)highest + 1, 1);
        if (t->watch_lines == NULL) {
            result = -1;
        } else {
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
                long line = PyLong_AsLong(PyList_GET_ITEM(list, i));
                if (line >= 0 && line <= highest) {
                    t->watch_lines[line] = 1;
                }
            }
            t->watch_line_count = (int)highest + 1;
            t->watch_frame = Py_NewRef((PyObject *)frame);
            t->watch_code = (PyObject *)PyFrame_GetCode((PyFrameObject *)frame);
            /* The frame's line now is its last line event: the next stops if this one stores. */
            int line = PyFrame_GetLineNumber((PyFrameObject *)frame);
            t->watch_after_store = line >= 0 && line <= highest && t->watch_lines[line];
        }
        PyErr_Clear();
    }
    PyGILState_Release(gil);
    return result;
}

long long rt_tracer_last_hit(void *tracer)
{
    return ((Tracer *)tracer)->last_hit;
}

void rt_tracer_clear_remembered(void *tracer)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    ((Tracer *)tracer)->last_hit = -1;
    PyGILState_Release(gil);
}

/* Finalizers and weakref callbacks run by the garbage collector run when allocations
 * say so, and our own work between stops allocates: their lines must not count. */
void rt_tracer_pause(void *tracer, int pause)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    ((Tracer *)tracer)->paused += pause ? 1 : -1;
    PyGILState_Release(gil);
}
