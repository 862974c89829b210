/* co_extra, the per-code-object slots an extension may ask for: named so from 3.12. */
#ifndef RETRACE_CODE_EXTRA_H
#define RETRACE_CODE_EXTRA_H

#include <Python.h>

#if PY_VERSION_HEX >= 0x030C0000
#define rt_request_code_extra_index PyUnstable_Eval_RequestCodeExtraIndex
#define rt_code_get_extra PyUnstable_Code_GetExtra
#define rt_code_set_extra PyUnstable_Code_SetExtra
#else
#define rt_request_code_extra_index _PyEval_RequestCodeExtraIndex
#define rt_code_get_extra _PyCode_GetExtra
#define rt_code_set_extra _PyCode_SetExtra
#endif

#endif
