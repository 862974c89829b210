/* Setting attributes on built-in types, which Python refuses to do itself.
 *
 * The recorder must replace `datetime.datetime.now` and friends before user code runs.
 * Those types are static (immutable) types, so `setattr` raises; we write into the
 * type's dict directly and invalidate the method cache with PyType_Modified.
 */
#include <Python.h>
#include "engine.h"

int rt_type_set_attribute(void *type, const char *name, void *value)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int result = -1;
    PyTypeObject *tp = (PyTypeObject *)type;
    PyObject *dict;
    if (!PyType_Check((PyObject *)tp)) {
        goto done;
    }
#if PY_VERSION_HEX >= 0x030C0000
    dict = PyType_GetDict(tp); /* new reference */
#else
    dict = tp->tp_dict;
    Py_XINCREF(dict);
#endif
    if (dict == NULL) {
        PyErr_Clear();
        goto done;
    }
    result = PyDict_SetItemString(dict, name, (PyObject *)value);
    Py_DECREF(dict);
    if (result < 0) {
        PyErr_Clear();
    }
    PyType_Modified(tp);
done:
    PyGILState_Release(gil);
    return result;
}
