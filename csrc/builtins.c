/* Built-in functions whose body is a Python callable.
 *
 * A boundary function the recorder replaces (time.time, os.stat, datetime.now...) must
 * look to the program like the built-in it replaces: its type, repr, __self__, pickling,
 * inspect.isbuiltin. C extensions care too: time-machine reads the replaced object as a
 * PyCFunctionObject and swaps its m_ml->ml_meth, which crashed the recorded process when
 * it found a Python function there. So each wrapper is a real builtin_function_or_method
 * (or classmethod_descriptor) whose C function calls the wrapper.
 *
 * A C function cannot carry data of its own, and the object it is called with (`self`)
 * must stay what the original had (the module, or the class), so each wrapper gets a
 * trampoline of its own from a fixed pool: trampoline k calls slot k's callable.
 */
#include <Python.h>
#include <string.h>
#include "engine.h"

#define RT_SLOTS 512

typedef PyObject *(*fastcall_keywords)(PyObject *, PyObject *const *, Py_ssize_t, PyObject *);

static PyObject *slot_callable[RT_SLOTS]; /* owned, never released: the patches live as long as the process */
static int slot_passes_self[RT_SLOTS];    /* 1: a classmethod's wrapper takes the class first */
static int slots_used = 0;

static PyObject *call_slot(int k, PyObject *self, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (!slot_passes_self[k]) {
        return PyObject_Vectorcall(slot_callable[k], args, nargs, kwnames);
    }
    Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *small[8];
    PyObject **stack = small;
    if (total + 1 > 8) {
        stack = PyMem_Malloc((size_t)(total + 1) * sizeof(PyObject *));
        if (stack == NULL) {
            return PyErr_NoMemory();
        }
    }
    stack[0] = self;
    if (total > 0) {
        memcpy(stack + 1, args, (size_t)total * sizeof(PyObject *));
    }
    PyObject *result = PyObject_Vectorcall(slot_callable[k], stack, nargs + 1, kwnames);
    if (stack != small) {
        PyMem_Free(stack);
    }
    return result;
}

#define T(a, b, c)                                                                                 \
    static PyObject *trampoline_##a##b##c(PyObject *s, PyObject *const *x, Py_ssize_t n, PyObject *k) \
    {                                                                                              \
        return call_slot((a) * 64 + (b) * 8 + (c), s, x, n, k);                                    \
    }
#define T8(a, b) T(a, b, 0) T(a, b, 1) T(a, b, 2) T(a, b, 3) T(a, b, 4) T(a, b, 5) T(a, b, 6) T(a, b, 7)
#define T64(a) T8(a, 0) T8(a, 1) T8(a, 2) T8(a, 3) T8(a, 4) T8(a, 5) T8(a, 6) T8(a, 7)
T64(0) T64(1) T64(2) T64(3) T64(4) T64(5) T64(6) T64(7)

#define P(a, b, c) trampoline_##a##b##c,
#define P8(a, b) P(a, b, 0) P(a, b, 1) P(a, b, 2) P(a, b, 3) P(a, b, 4) P(a, b, 5) P(a, b, 6) P(a, b, 7)
#define P64(a) P8(a, 0) P8(a, 1) P8(a, 2) P8(a, 3) P8(a, 4) P8(a, 5) P8(a, 6) P8(a, 7)
static const fastcall_keywords trampolines[RT_SLOTS] = {P64(0) P64(1) P64(2) P64(3) P64(4) P64(5) P64(6) P64(7)};

static char *copy_text(const char *text)
{
    if (text == NULL) {
        return NULL;
    }
    size_t size = strlen(text) + 1;
    char *copy = PyMem_RawMalloc(size);
    if (copy != NULL) {
        memcpy(copy, text, size);
    }
    return copy;
}

/* A builtin named `name` (documented by `doc`, which may start with a text signature)
 * that calls `callable`: a function bound to `owner` (a module, as the originals are,
 * with `module_name` its __module__) or, with `classmethod`, a classmethod descriptor of
 * the type `owner` whose calls pass the class first. Appended to `out_list`; 0 on
 * success, -1 when the pool is used up or memory is short (the caller falls back). */
int rt_builtin_new(void *callable, const char *name, const char *doc, void *owner, void *module_name,
                   int classmethod, void *out_list)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int result = -1;
    PyMethodDef *def = NULL;
    PyObject *made = NULL;
    if (slots_used >= RT_SLOTS) {
        goto done;
    }
    def = PyMem_RawCalloc(1, sizeof(PyMethodDef));
    if (def == NULL) {
        goto done;
    }
    def->ml_name = copy_text(name);
    def->ml_doc = copy_text(doc);
    if (def->ml_name == NULL) {
        goto done;
    }
    int k = slots_used;
    def->ml_meth = (PyCFunction)(void (*)(void))trampolines[k];
    def->ml_flags = METH_FASTCALL | METH_KEYWORDS;
    if (classmethod) {
        def->ml_flags |= METH_CLASS;
        made = PyDescr_NewClassMethod((PyTypeObject *)owner, def);
    } else {
        made = PyCFunction_NewEx(def, (PyObject *)owner, (PyObject *)module_name);
    }
    if (made == NULL) {
        PyErr_Clear();
        goto done;
    }
    if (PyList_Append((PyObject *)out_list, made) < 0) {
        PyErr_Clear();
        Py_DECREF(made);
        goto done;
    }
    Py_DECREF(made);
    Py_INCREF((PyObject *)callable);
    slot_callable[k] = (PyObject *)callable;
    slot_passes_self[k] = classmethod;
    slots_used++;
    def = NULL; /* owned by the new object for the process's life */
    result = 0;
done:
    if (def != NULL) {
        PyMem_RawFree((void *)def->ml_name);
        PyMem_RawFree((void *)def->ml_doc);
        PyMem_RawFree(def);
    }
    PyGILState_Release(gil);
    return result;
}
