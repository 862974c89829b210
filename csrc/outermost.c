/* Calling the program as the outermost frame of its thread's stack.
 *
 * A plain `python -m pkg` or `python script.py` runs the program with nothing of Python
 * under it (runpy's frames, or the script's own). A recorded or replayed one is started
 * by launch.py, whose frames sat under the program's: `inspect.stack()[-1]` was ours.
 * coverage's `run` decides `sys.path[0]` from the folder of that outermost frame's file,
 * and a recorded `python -m coverage run script.py` put another folder first than a
 * plain one did (typer's suite: a test's result changed).
 *
 * So launch.py calls the program through rt_call_as_outermost: the thread's current
 * frame is set to none for the call (each new frame links to the current one as it
 * starts, so the program's first frame has no frame before it) and put back after. The
 * launcher's frames stay where they are on the interpreter's stack; only the link is
 * cut. */
#include <Python.h>

/* Calls `callable()`. 0: it returned (the result is dropped); -1: it raised, and the
 * exception, with its traceback, is appended to `out_list` for the caller to raise. */
int rt_call_as_outermost(void *callable, void *out_list)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyThreadState *tstate = PyThreadState_Get();
#if PY_VERSION_HEX >= 0x030D0000
    struct _PyInterpreterFrame *saved = tstate->current_frame;
    tstate->current_frame = NULL;
#else
    struct _PyInterpreterFrame *saved = tstate->cframe->current_frame;
    tstate->cframe->current_frame = NULL;
#endif
    PyObject *result = PyObject_CallNoArgs((PyObject *)callable);
#if PY_VERSION_HEX >= 0x030D0000
    tstate->current_frame = saved;
#else
    tstate->cframe->current_frame = saved;
#endif
    int status = 0;
    if (result == NULL) {
        status = -1;
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyErr_NormalizeException(&type, &value, &traceback);
        if (value != NULL && traceback != NULL) {
            PyException_SetTraceback(value, traceback);
        }
        if (value == NULL || PyList_Append((PyObject *)out_list, value) < 0) {
            PyErr_Clear();
        }
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(traceback);
    } else {
        Py_DECREF(result);
    }
    PyGILState_Release(gil);
    return status;
}
