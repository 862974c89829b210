/* The tracer's per-code cache: is this code object program code, and has its file any
 * breakpoint?
 *
 * Kept in co_extra (one index for the process) rather than in a dict of code objects:
 * the entry dies with its code object, so the cache keeps no code alive and a freed
 * code object's address is never mistaken for a live one; and the lookup is a few loads,
 * where hashing a code object is not cheap. An entry names the tracer that filled it, so
 * several tracers in one process (the tests) do not see each other's decisions.
 */
#include "tracer.h"
#include "code_extra.h"

/* Asked for once per process, under the GIL; a forked child inherits it along with the
 * interpreter state that gave it out. */
static Py_ssize_t code_extra_index = -1;

int rt_codeinfo_init(void)
{
    if (code_extra_index < 0) {
        code_extra_index = rt_request_code_extra_index(PyMem_RawFree);
    }
    return code_extra_index < 0 ? -1 : 0;
}

/* `t->rules` holds (prefix, kind) rules, longest prefix first (scope.py): the first that
 * matches decides; no match is program code. */
static long code_kind(Tracer *t, PyCodeObject *code)
{
    Py_ssize_t n = PyTuple_GET_SIZE(t->rules);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *rule = PyTuple_GET_ITEM(t->rules, i);
        Py_ssize_t match = PyUnicode_Tailmatch(code->co_filename, PyTuple_GET_ITEM(rule, 0),
                                               0, PY_SSIZE_T_MAX, -1);
        if (match < 0) {
            PyErr_Clear();
        } else if (match) {
            long kind = PyLong_AsLong(PyTuple_GET_ITEM(rule, 1));
            if (kind == -1 && PyErr_Occurred()) {
                PyErr_Clear();
            }
            return kind;
        }
    }
    return RT_PROGRAM;
}

/* The cached decision for `code`; `scratch` is used (uncached) when co_extra fails. */
CodeInfo *rt_code_info(Tracer *t, PyCodeObject *code, CodeInfo *scratch)
{
    void *extra = NULL;
    long kind;
    CodeInfo *info;
    if (rt_code_get_extra((PyObject *)code, code_extra_index, &extra) < 0) {
        PyErr_Clear();
        extra = NULL;
    }
    info = (CodeInfo *)extra;
    if (info != NULL && info->tracer_id == t->id) {
        return info;
    }
    if (info == NULL) {
        info = PyMem_RawMalloc(sizeof(CodeInfo));
        if (info == NULL || rt_code_set_extra((PyObject *)code, code_extra_index, info) < 0) {
            PyErr_Clear();
            PyMem_RawFree(info);
            info = scratch;
        }
    }
    info->tracer_id = t->id;
    kind = code_kind(t, code);
    info->is_program = kind == RT_PROGRAM;
    info->is_ours = kind == RT_OURS;
    info->breakpoint_generation = t->breakpoint_generation - 1; /* stale: refreshed on use */
    info->has_breakpoints = 0;
    info->map_index = -1;
    return info;
}

/* The last line `code` has an instruction on (LONG_MAX when it cannot tell: the rest of
 * its file). */
static long last_line_of(PyCodeObject *code)
{
    long last = code->co_firstlineno;
    PyObject *lines = PyObject_CallMethod((PyObject *)code, "co_lines", NULL);
    PyObject *iterator = lines ? PyObject_GetIter(lines) : NULL, *entry;
    if (iterator == NULL) {
        Py_XDECREF(lines);
        PyErr_Clear();
        return LONG_MAX;
    }
    while ((entry = PyIter_Next(iterator)) != NULL) {
        PyObject *line = PyTuple_Check(entry) && PyTuple_GET_SIZE(entry) == 3 ? PyTuple_GET_ITEM(entry, 2) : NULL;
        if (line != NULL && PyLong_Check(line) && PyLong_AsLong(line) > last) {
            last = PyLong_AsLong(line);
        }
        Py_DECREF(entry);
    }
    Py_DECREF(iterator);
    Py_DECREF(lines);
    if (PyErr_Occurred()) { /* the iteration failed part way: the rest of the file */
        PyErr_Clear();
        return LONG_MAX;
    }
    return last;
}

/* Has `code` a breakpoint on one of its lines? Asked once per code object and set of
 * breakpoints: a loop in a function of a file with a breakpoint elsewhere then costs one
 * comparison a line, not a scan. Code whose lines cannot be told (no co_lines) is asked
 * about the rest of its file. */
static int code_has_breakpoints(Tracer *t, PyCodeObject *code)
{
    int found = PySet_Contains(t->breakpoint_files, code->co_filename);
    long first = code->co_firstlineno, last;
    if (found <= 0) {
        PyErr_Clear();
        return 0;
    }
    last = last_line_of(code);
    for (Py_ssize_t i = 0; i < t->breakpoint_count; i++) {
        Breakpoint *bp = &t->breakpoints[i];
        if (bp->line >= first && bp->line <= last && PyUnicode_Compare(bp->filename, code->co_filename) == 0) {
            return 1;
        }
    }
    PyErr_Clear();
    return 0;
}

/* One check for code without a breakpoint on its lines; a scan of the few breakpoints else. */
int rt_at_breakpoint(Tracer *t, PyCodeObject *code, CodeInfo *info, int line)
{
    if (info->breakpoint_generation != t->breakpoint_generation) {
        info->has_breakpoints = (char)code_has_breakpoints(t, code);
        info->breakpoint_generation = t->breakpoint_generation;
    }
    if (!info->has_breakpoints) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < t->breakpoint_count; i++) {
        Breakpoint *bp = &t->breakpoints[i];
        if (bp->line == line && (bp->filename == code->co_filename
                                 || PyUnicode_Compare(bp->filename, code->co_filename) == 0)) {
            return 1;
        }
    }
    if (PyErr_Occurred()) {
        PyErr_Clear();
    }
    return 0;
}
