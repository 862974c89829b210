/* The C surface of retrace_core._engine; see build_engine.py for the cdef. */
#ifndef RETRACE_ENGINE_H
#define RETRACE_ENGINE_H

int rt_type_set_attribute(void *type, const char *name, void *value);

#endif
