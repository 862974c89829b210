/* The decoded tape, out of the garbage collector's sight.
 *
 * A replay decodes its whole tape before the program's first line: hundreds of thousands
 * of lists, tuples and dicts, alive until the end and in no cycle. Tracked, every full
 * collection the program runs walks them all and writes into each one's GC header, and
 * each snapshot of the debugger (a fork) then keeps its own copy of every page of the
 * tape: an interval of a pytest run holding one full collection rewrote 75 to 82 MiB,
 * about 4 times what the program's own heap costs. Untracked, a collection never looks
 * at them. Objects they hold stay tracked: to the collector, a reference from an
 * untracked container is one from outside, so what they hold is never collected early.
 * A dict the program later puts a tracked value into tracks itself again (CPython's
 * MAINTAIN_TRACKING); a list or tuple does not need to.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "engine.h"

/* Exact lists, tuples and dicts only: an instance of a subclass may be in a cycle. */
static int is_plain_container(PyObject *o)
{
    return PyList_CheckExact(o) || PyTuple_CheckExact(o) || PyDict_CheckExact(o);
}

/* Untrack the plain containers reachable from `root` through plain containers, with an
 * explicit stack (a tape's values nest without a bound we could recurse into). */
static long long untrack_tree(PyObject *root)
{
    long long count = 0;
    Py_ssize_t size = 256, top = 0;
    PyObject **stack = PyMem_RawMalloc(size * sizeof(PyObject *));
    if (stack == NULL) return -1;
    stack[top++] = root;
    while (top > 0) {
        PyObject *o = stack[--top];
        if (!is_plain_container(o) || !PyObject_GC_IsTracked(o)) continue;
        PyObject_GC_UnTrack(o);
        count++;
        Py_ssize_t n;
        PyObject **items;
        PyObject *key, *value;
        Py_ssize_t position = 0;
        if (PyDict_CheckExact(o)) {
            n = 2 * PyDict_GET_SIZE(o);
            items = NULL;
        } else if (PyList_CheckExact(o)) {
            n = PyList_GET_SIZE(o);
            items = ((PyListObject *)o)->ob_item;
        } else {
            n = PyTuple_GET_SIZE(o);
            items = ((PyTupleObject *)o)->ob_item;
        }
        if (top + n > size) {
            Py_ssize_t bigger = size;
            while (top + n > bigger) bigger *= 2;
            PyObject **grown = PyMem_RawRealloc(stack, bigger * sizeof(PyObject *));
            if (grown == NULL) {
                PyMem_RawFree(stack);
                return -1;
            }
            stack = grown;
            size = bigger;
        }
        if (items != NULL) {
            for (Py_ssize_t i = 0; i < n; i++) {
                if (is_plain_container(items[i])) stack[top++] = items[i];
            }
        } else {
            while (PyDict_Next(o, &position, &key, &value)) {
                if (is_plain_container(key)) stack[top++] = key;
                if (is_plain_container(value)) stack[top++] = value;
            }
        }
    }
    PyMem_RawFree(stack);
    return count;
}

long long rt_untrack_containers(void *root)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    long long count = untrack_tree((PyObject *)root);
    PyGILState_Release(gil);
    return count;
}
