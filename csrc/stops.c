/* What a line, call or return of program code does to the tracer, whichever way the
 * interpreter told us of it: a trace function (tracer.c, PyEval_SetTrace) or sys.monitoring
 * callbacks (monitor.c, 3.12 and later). Both hand over the line number they were given
 * and, when they have one, the frame; a frame is only asked for (PyEval_GetFrame) when a
 * check needs it, because under sys.monitoring making one costs an allocation.
 */
#include "tracer.h"

static PyFrameObject *frame_of_event(PyFrameObject *frame)
{
    return frame != NULL ? frame : PyEval_GetFrame(); /* borrowed, as the trace function's */
}

static int predicate_holds(Tracer *t, DepthPredicate *p)
{
    ThreadDepth *thread;
    if (!p->any_thread && PyThread_get_thread_ident() != p->thread) {
        return 0;
    }
    if (p->any_depth) {
        return 1;
    }
    thread = rt_current_thread(t);
    return thread != NULL && thread->depth <= p->max_depth;
}

/* Frames on_stop may use above the program's recursion limit: its own (a snapshot's fork,
 * a message to the controller) and what an inspection at the stop evaluates. Without
 * them, a line of the program's a few frames below its limit raised RecursionError in our
 * code, and the program took it for its own (it caught it, or died of it where the
 * recording had gone on). */
#define STOP_HEADROOM 500

/* Whether the calling thread has fewer than STOP_HEADROOM frames left below the limit. The
 * limit is raised only then, so that a stop anywhere else leaves the interpreter's state
 * as it was (a snapshot copies it, and every worker forked from one). */
static int near_the_limit(void)
{
    PyThreadState *state = PyThreadState_Get();
#if PY_VERSION_HEX >= 0x030C0000
    return state->py_recursion_remaining < STOP_HEADROOM;
#else
    return state->recursion_remaining < STOP_HEADROOM;
#endif
}

/* An exception from on_stop goes into the program at this point and ends tracing on
 * this thread, as it does for a Python trace function (the engine's on_stop lets only
 * a divergence through: engine_faults.py). */
int rt_call_on_stop(Tracer *t, int reason, PyFrameObject *frame)
{
    PyObject *result;
    PyObject *on_stop = t->on_stop;
    int limit;
    if (on_stop == NULL || (frame = frame_of_event(frame)) == NULL) {
        return 0;
    }
    Py_INCREF(t);
    Py_INCREF(on_stop);
    limit = near_the_limit() ? Py_GetRecursionLimit() : 0;
    if (limit) {
        Py_SetRecursionLimit(limit + STOP_HEADROOM);
    }
    result = PyObject_CallFunctionObjArgs(on_stop, t->reasons[reason], (PyObject *)frame, NULL);
    if (limit) {
        Py_SetRecursionLimit(limit);
    }
    Py_DECREF(on_stop);
    if (result == NULL) {
        rt_untrace_here(t);
        Py_DECREF(t);
        return -1;
    }
    Py_DECREF(result);
    Py_DECREF(t);
    return 0;
}

/* The watch's frame at a line where no watched name was stored just before and none is
 * stored now: its value cannot have changed, the step need not stop. Other code is let
 * by before any frame is asked for. */
static int watch_skips(Tracer *t, PyCodeObject *code, int line, PyFrameObject *frame)
{
    if (t->watch_code != (PyObject *)code || t->watch_frame != (PyObject *)frame_of_event(frame)) {
        return 0;
    }
    int store = line >= 0 && line < t->watch_line_count && t->watch_lines[line];
    int stop = store || t->watch_after_store;
    t->watch_after_store = store;
    return !stop;
}

/* Checks after counting a line event; the order of reasons is target, breakpoint, step.
 * Remembering comes first, so the line that stops can be the one remembered; while
 * breakpoints are remembered they do not stop. */
static int check_line(Tracer *t, PyCodeObject *code, CodeInfo *info, int line, PyFrameObject *frame)
{
    int reason;
    int breakpoint = t->breakpoint_count > 0 && rt_at_breakpoint(t, code, info, line);
    int skip = t->watch_frame != NULL && watch_skips(t, code, line, frame); /* on every line: it follows the stores */
    if ((t->remember_breakpoints && breakpoint)
        || (t->remember.on && predicate_holds(t, &t->remember))) {
        t->last_hit = t->position;
    }
    if (t->target == t->position) {
        reason = REASON_TARGET;
    } else if (breakpoint && !t->remember_breakpoints) {
        reason = REASON_BREAKPOINT;
    } else if (t->step.on && predicate_holds(t, &t->step) && !skip) {
        reason = REASON_STEP;
    } else {
        return 0;
    }
    return rt_call_on_stop(t, reason, frame);
}

int rt_count_line(Tracer *t, PyCodeObject *code, CodeInfo *info, CodeInfo *scratch, int line,
                  PyFrameObject *frame)
{
    t->position++;
    if (t->line_map_on) {
        rt_linemap_record(t, code, info, scratch, line);
    }
    return t->line_checks ? check_line(t, code, info, line, frame) : 0;
}

/* A program frame of `thread` returns (`value` NULL: by an exception). */
int rt_count_return(Tracer *t, ThreadDepth *thread, PyObject *value, PyFrameObject *frame)
{
    int result = 0;
    if (thread == NULL) {
        return 0;
    }
    if (thread->depth <= t->return_depth && value != NULL && t->returns != NULL
        && thread->ident == t->return_thread) {
        /* next/finish over a call: the engine keeps its value's text, not the value */
        if (PyList_Append(t->returns, value) < 0) {
            PyErr_Clear();
        } else {
            result = rt_call_on_stop(t, REASON_RETURN, frame);
        }
    }
    thread->depth--;
    if (thread->depth < t->shallowest) {
        t->shallowest = thread->depth;
    }
    return result;
}

/* Is `frame`'s caller our own code? */
int rt_called_by_us(Tracer *t, PyFrameObject *frame)
{
    PyFrameObject *back = PyFrame_GetBack(frame);
    int ours = 0;
    if (back != NULL) {
        CodeInfo scratch;
        PyCodeObject *code = PyFrame_GetCode(back);
        ours = rt_code_info(t, code, &scratch)->is_ours;
        Py_DECREF(code);
        Py_DECREF(back);
    }
    return ours;
}

/* ---- sightings (monitor.c, tracer.c) ---- */

/* Would the traced tracer count a line here? Not while a garbage collection runs, nor under
 * a program frame that our own code called (asked of the whole stack: a sighting has no
 * call events to tell it). */
static int sight_counts(Tracer *t, PyFrameObject *frame)
{
    if (t->paused > 0) {
        return 0;
    }
    Py_XINCREF(frame);
    while (frame != NULL) {
        CodeInfo scratch;
        PyCodeObject *code = PyFrame_GetCode(frame);
        int called = rt_code_info(t, code, &scratch)->is_program && rt_called_by_us(t, frame);
        PyFrameObject *back = called ? NULL : PyFrame_GetBack(frame);
        Py_DECREF(code);
        Py_DECREF(frame);
        if (called) {
            return 0;
        }
        frame = back;
    }
    return 1;
}

/* A breakpoint's line runs in `frame` while a sighting is on: its callback, if it counts. */
void rt_sight_run(Tracer *t, PyFrameObject *frame)
{
    if (sight_counts(t, frame)) {
        PyObject *result;
        t->paused++; /* the callback's own lines (a repr the program wrote) are no runs of the line */
        result = PyObject_CallOneArg(t->sight_callback, (PyObject *)frame);
        t->paused--;
        Py_XDECREF(result);
    }
    PyErr_Clear(); /* never into the program: the engine's callback reports its own failures */
}
