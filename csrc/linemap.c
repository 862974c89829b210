/* The line map: in which stretch between two events each line of program code ran,
 * gathered by the indexing pass.
 *
 * A stretch is numbered by the events consumed before it (the engine tells the tracer
 * of each event, rt_note_event below) and the snapshots the indexing pass offered
 * (rt_note_break: a program that makes no boundary call for seconds is still cut into
 * stretches, so that a watch knows where a line did not run). For each code object the map keeps, per line, the
 * stretches in which that line ran, each once. With it a reverse-continue need not trace
 * the run back to the breakpoint: only the last stretch in which the breakpoint's line
 * ran (see core/control/line_map.py), which a move reaches untraced.
 *
 * The maps belong to the tracer, not to the code objects (whose co_extra entry only
 * names its map): a module's code dies after its import, and its lines must stay known.
 * Anything that cannot be recorded breaks the whole map (`broken`): a map with holes
 * would send a reverse-continue past a hit, so the engine then scans as before.
 */
#include "tracer.h"

/* A line's stretches as ranges [first, end): a line in a loop runs in every stretch, and
 * a long run would otherwise list millions of them. */
struct LineSlot {
    uint32_t count, capacity; /* in uint32s: two per range */
    uint32_t *ranges;
};

struct LineMap {
    PyObject *filename;
    int first_line;
    int line_count;
    LineSlot *slots;
};

static LineMap *new_map(Tracer *t, PyCodeObject *code)
{
    LineMap *map;
    if (t->map_count == t->map_capacity) {
        Py_ssize_t capacity = t->map_capacity ? 2 * t->map_capacity : 256;
        LineMap **grown = PyMem_RawRealloc(t->maps, capacity * sizeof(LineMap *));
        if (grown == NULL) {
            return NULL;
        }
        t->maps = grown;
        t->map_capacity = capacity;
    }
    map = PyMem_RawCalloc(1, sizeof(LineMap));
    if (map == NULL) {
        return NULL;
    }
    map->filename = Py_NewRef(code->co_filename);
    map->first_line = code->co_firstlineno;
    t->maps[t->map_count++] = map;
    return map;
}

/* Room for `line` in `map` (lines before first_line shift the slots up). */
static LineSlot *slot_for(LineMap *map, int line)
{
    int index = line - map->first_line;
    if (index < 0 || index >= map->line_count) {
        int first = index < 0 ? line : map->first_line;
        int last = index < 0 ? map->first_line + map->line_count - 1 : line;
        int count = last - first + 1 + (index < 0 ? 0 : 16);
        LineSlot *slots = PyMem_RawCalloc(count, sizeof(LineSlot));
        if (slots == NULL) {
            return NULL;
        }
        if (map->line_count) {
            memcpy(slots + (map->first_line - first), map->slots, map->line_count * sizeof(LineSlot));
        }
        PyMem_RawFree(map->slots);
        map->slots = slots;
        map->first_line = first;
        map->line_count = count;
        index = line - first;
    }
    return &map->slots[index];
}

void rt_linemap_record(Tracer *t, PyCodeObject *code, CodeInfo *info, CodeInfo *scratch, PyFrameObject *frame)
{
    LineMap *map;
    LineSlot *slot;
    int line;
    if (t->map_broken) {
        return;
    }
    if (info == scratch) { /* no co_extra entry to name the map by */
        t->map_broken = 1;
        return;
    }
    if (info->map_index < 0) {
        if (new_map(t, code) == NULL) {
            t->map_broken = 1;
            return;
        }
        info->map_index = t->map_count - 1;
    }
    map = t->maps[info->map_index];
    line = PyFrame_GetLineNumber(frame);
    if (line < 0) {
        return; /* no line: no breakpoint can be there either */
    }
    slot = slot_for(map, line);
    if (slot == NULL) {
        t->map_broken = 1;
        return;
    }
    if (slot->count && slot->ranges[slot->count - 1] >= t->interval + 1) {
        return; /* this stretch is noted already */
    }
    if (slot->count && slot->ranges[slot->count - 1] == t->interval) {
        slot->ranges[slot->count - 1] = t->interval + 1; /* the next stretch: the range grows */
        return;
    }
    if (slot->count == slot->capacity) {
        uint32_t capacity = slot->capacity ? 2 * slot->capacity : 4;
        uint32_t *grown = PyMem_RawRealloc(slot->ranges, capacity * sizeof(uint32_t));
        if (grown == NULL) {
            t->map_broken = 1;
            return;
        }
        slot->ranges = grown;
        slot->capacity = capacity;
    }
    slot->ranges[slot->count++] = t->interval;
    slot->ranges[slot->count++] = t->interval + 1;
}

void rt_linemap_clear(Tracer *t)
{
    for (Py_ssize_t i = 0; i < t->map_count; i++) {
        LineMap *map = t->maps[i];
        for (int line = 0; line < map->line_count; line++) {
            PyMem_RawFree(map->slots[line].ranges);
        }
        PyMem_RawFree(map->slots);
        Py_DECREF(map->filename);
        PyMem_RawFree(map);
    }
    PyMem_RawFree(t->maps);
    t->maps = NULL;
    t->map_count = t->map_capacity = 0;
}

/* {filename: {line: ranges}}: the ranges of stretches in which each line ran, as bytes of
 * native uint32 pairs (first, end), ascending; code objects of one file are listed one
 * after the other under a line they share (a comprehension's), so a line's ranges may
 * overlap there. Bytes, not lists of ints: a pytest run of 5,000 tests has some 20 million
 * of them, which as Python ints took a gigabyte in the worker and again in the controller. */
static PyObject *as_dict(Tracer *t)
{
    PyObject *files = PyDict_New();
    if (files == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < t->map_count; i++) {
        LineMap *map = t->maps[i];
        PyObject *lines = PyDict_GetItemWithError(files, map->filename);
        if (lines == NULL) {
            if (PyErr_Occurred() || (lines = PyDict_New()) == NULL) {
                goto fail;
            }
            if (PyDict_SetItem(files, map->filename, lines) < 0) {
                Py_DECREF(lines);
                goto fail;
            }
            Py_DECREF(lines);
        }
        for (int index = 0; index < map->line_count; index++) {
            LineSlot *slot = &map->slots[index];
            PyObject *key, *ranges, *before;
            int stored;
            if (slot->count == 0) {
                continue;
            }
            if ((key = PyLong_FromLong(map->first_line + index)) == NULL) {
                goto fail;
            }
            ranges = PyBytes_FromStringAndSize((const char *)slot->ranges, slot->count * sizeof(uint32_t));
            before = ranges == NULL ? NULL : PyDict_GetItemWithError(lines, key);
            if (before != NULL) {
                Py_INCREF(before);
                PyBytes_Concat(&before, ranges); /* replaces `before` by the joined bytes; `ranges` is kept */
                Py_DECREF(ranges);
                ranges = before;
            }
            stored = ranges != NULL && !PyErr_Occurred() && PyDict_SetItem(lines, key, ranges) == 0;
            Py_XDECREF(ranges);
            Py_DECREF(key);
            if (!stored) {
                goto fail;
            }
        }
    }
    return files;
fail:
    Py_DECREF(files);
    return NULL;
}

/* The map as a dict appended to `out_list` (None if it is broken); the map is freed and
 * gathering ends. */
int rt_tracer_take_line_map(void *tracer, void *out_list)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    PyObject *result = t->map_broken ? Py_NewRef(Py_None) : as_dict(t);
    int status = -1;
    t->line_map_on = 0;
    rt_linemap_clear(t);
    t->map_broken = 0;
    if (result != NULL) {
        status = PyList_Append((PyObject *)out_list, result);
        Py_DECREF(result);
    }
    if (PyErr_Occurred()) {
        PyErr_Clear();
        status = -1;
    }
    PyGILState_Release(gil);
    return status;
}

void rt_tracer_gather_line_map(void *tracer, int on)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    ((Tracer *)tracer)->line_map_on = on;
    PyGILState_Release(gil);
}


/* ---- the positions of events, noted by the indexing pass ----
 * Called once per event from the engine's listener as a method of the tracer object, not
 * through cffi: a cffi call gives up and takes back the GIL, which cost more per event
 * than the replay of the event itself. */

PyObject *rt_note_event(PyObject *self, PyObject *unused)
{
    Tracer *t = (Tracer *)self;
    if (t->event_count == t->event_capacity) {
        Py_ssize_t capacity = t->event_capacity ? 2 * t->event_capacity : 4096;
        long long *grown = PyMem_RawRealloc(t->event_positions, capacity * sizeof(long long));
        if (grown == NULL) {
            return PyErr_NoMemory();
        }
        t->event_positions = grown;
        t->event_capacity = capacity;
    }
    t->event_positions[t->event_count++] = t->position;
    t->interval++;
    Py_RETURN_NONE;
}

/* A stretch ends here without an event (the indexing pass's snapshot): the number of the
 * stretch that begins. */
PyObject *rt_note_break(PyObject *self, PyObject *unused)
{
    Tracer *t = (Tracer *)self;
    t->interval++;
    return PyLong_FromUnsignedLong(t->interval);
}

/* The positions noted, as a list; the notes are dropped. */
PyObject *rt_take_event_positions(PyObject *self, PyObject *unused)
{
    Tracer *t = (Tracer *)self;
    PyObject *list = PyList_New(t->event_count);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < t->event_count; i++) {
        PyObject *number = PyLong_FromLongLong(t->event_positions[i]);
        if (number == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, number);
    }
    PyMem_RawFree(t->event_positions);
    t->event_positions = NULL;
    t->event_count = t->event_capacity = 0;
    return list;
}

/* A forked child's tape: events are numbered from 1 again. What ran before its first
 * event ran in stretch 0, whatever the parent's numbering said. */
PyObject *rt_restart_events(PyObject *self, PyObject *unused)
{
    Tracer *t = (Tracer *)self;
    for (Py_ssize_t i = 0; i < t->map_count; i++) {
        LineMap *map = t->maps[i];
        for (int line = 0; line < map->line_count; line++) {
            LineSlot *slot = &map->slots[line];
            if (slot->count) {
                slot->ranges[0] = 0;
                slot->ranges[1] = 1;
                slot->count = 2;
            }
        }
    }
    t->event_count = 0;
    t->interval = 0;
    Py_RETURN_NONE;
}
