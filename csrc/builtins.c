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

/* A trampoline per calling convention: C code that calls the replaced function's C
 * pointer directly (time-machine does, for its "original" functions) calls it with the
 * original's convention, so slot k's trampoline must take the same arguments. */
static PyObject *call_slot_tuple(int k, PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (!slot_passes_self[k]) {
        return args != NULL ? PyObject_Call(slot_callable[k], args, kwargs) : PyObject_CallNoArgs(slot_callable[k]);
    }
    Py_ssize_t n = args != NULL ? PyTuple_GET_SIZE(args) : 0;
    PyObject *with_self = PyTuple_New(n + 1);
    if (with_self == NULL) {
        return NULL;
    }
    Py_INCREF(self);
    PyTuple_SET_ITEM(with_self, 0, self);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(args, i);
        Py_INCREF(item);
        PyTuple_SET_ITEM(with_self, i + 1, item);
    }
    PyObject *result = PyObject_Call(slot_callable[k], with_self, kwargs);
    Py_DECREF(with_self);
    return result;
}

#define SLOT(a, b, c) ((a) * 64 + (b) * 8 + (c))
#define T(a, b, c)                                                                                      \
    static PyObject *fk_##a##b##c(PyObject *s, PyObject *const *x, Py_ssize_t n, PyObject *k)          \
    {                                                                                                   \
        return call_slot(SLOT(a, b, c), s, x, n, k);                                                    \
    }                                                                                                   \
    static PyObject *fa_##a##b##c(PyObject *s, PyObject *const *x, Py_ssize_t n)                       \
    {                                                                                                   \
        return call_slot(SLOT(a, b, c), s, x, n, NULL);                                                 \
    }                                                                                                   \
    static PyObject *no_##a##b##c(PyObject *s, PyObject *unused)                                       \
    {                                                                                                   \
        return call_slot(SLOT(a, b, c), s, NULL, 0, NULL);                                              \
    }                                                                                                   \
    static PyObject *o_##a##b##c(PyObject *s, PyObject *arg)                                           \
    {                                                                                                   \
        return call_slot(SLOT(a, b, c), s, &arg, 1, NULL);                                              \
    }                                                                                                   \
    static PyObject *va_##a##b##c(PyObject *s, PyObject *args)                                         \
    {                                                                                                   \
        return call_slot_tuple(SLOT(a, b, c), s, args, NULL);                                           \
    }                                                                                                   \
    static PyObject *vk_##a##b##c(PyObject *s, PyObject *args, PyObject *kwargs)                       \
    {                                                                                                   \
        return call_slot_tuple(SLOT(a, b, c), s, args, kwargs);                                         \
    }
#define T8(a, b) T(a, b, 0) T(a, b, 1) T(a, b, 2) T(a, b, 3) T(a, b, 4) T(a, b, 5) T(a, b, 6) T(a, b, 7)
#define T64(a) T8(a, 0) T8(a, 1) T8(a, 2) T8(a, 3) T8(a, 4) T8(a, 5) T8(a, 6) T8(a, 7)
T64(0) T64(1) T64(2) T64(3) T64(4) T64(5) T64(6) T64(7)

#define P(f, a, b, c) (void *)f##_##a##b##c,
#define P8(f, a, b) P(f, a, b, 0) P(f, a, b, 1) P(f, a, b, 2) P(f, a, b, 3) P(f, a, b, 4) P(f, a, b, 5) P(f, a, b, 6) P(f, a, b, 7)
#define P64(f, a) P8(f, a, 0) P8(f, a, 1) P8(f, a, 2) P8(f, a, 3) P8(f, a, 4) P8(f, a, 5) P8(f, a, 6) P8(f, a, 7)
#define POOL(f) {P64(f, 0) P64(f, 1) P64(f, 2) P64(f, 3) P64(f, 4) P64(f, 5) P64(f, 6) P64(f, 7)}
static void *const fastcall_keywords_pool[RT_SLOTS] = POOL(fk);
static void *const fastcall_pool[RT_SLOTS] = POOL(fa);
static void *const noargs_pool[RT_SLOTS] = POOL(no);
static void *const one_arg_pool[RT_SLOTS] = POOL(o);
static void *const varargs_pool[RT_SLOTS] = POOL(va);
static void *const varargs_keywords_pool[RT_SLOTS] = POOL(vk);

/* The trampoline of slot k for a calling convention (ml_flags), or NULL. */
static void *trampoline_for(int flags, int k)
{
    switch (flags & (METH_VARARGS | METH_KEYWORDS | METH_NOARGS | METH_O | METH_FASTCALL)) {
    case METH_FASTCALL | METH_KEYWORDS: return fastcall_keywords_pool[k];
    case METH_FASTCALL: return fastcall_pool[k];
    case METH_NOARGS: return noargs_pool[k];
    case METH_O: return one_arg_pool[k];
    case METH_VARARGS: return varargs_pool[k];
    case METH_VARARGS | METH_KEYWORDS: return varargs_keywords_pool[k];
    default: return NULL;
    }
}

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

/* A builtin like `original` (a built-in function, or with `classmethod` a classmethod
 * descriptor): its name, doc (with the text signature) and calling convention, but whose
 * calls go to `callable` (with `classmethod`, the class first). A function is bound to
 * `owner` (the module, as the original's __self__) with `module_name` its __module__; a
 * classmethod belongs to the type `owner`. Appended to `out_list`; 0 on success, -1 when
 * the pool is used up, the original is of another kind, or memory is short (the caller
 * then falls back to a Python wrapper). */
int rt_builtin_new(void *callable, void *original, void *owner, void *module_name, int classmethod,
                   void *out_list)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int result = -1;
    PyMethodDef *def = NULL;
    PyObject *made = NULL;
    PyMethodDef *from;
    if (classmethod) {
        if (!PyObject_TypeCheck((PyObject *)original, &PyClassMethodDescr_Type)) {
            goto done;
        }
        from = ((PyMethodDescrObject *)original)->d_method;
    } else {
        if (!PyCFunction_Check((PyObject *)original)) {
            goto done;
        }
        from = ((PyCFunctionObject *)original)->m_ml;
    }
    if (slots_used >= RT_SLOTS) {
        goto done;
    }
    int k = slots_used;
    void *trampoline = trampoline_for(from->ml_flags, k);
    if (trampoline == NULL) {
        goto done;
    }
    def = PyMem_RawCalloc(1, sizeof(PyMethodDef));
    if (def == NULL) {
        goto done;
    }
    def->ml_name = copy_text(from->ml_name);
    def->ml_doc = copy_text(from->ml_doc);
    if (def->ml_name == NULL) {
        goto done;
    }
    def->ml_meth = (PyCFunction)trampoline;
    def->ml_flags = from->ml_flags;
    if (classmethod) {
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
