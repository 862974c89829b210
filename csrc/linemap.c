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

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- the arena ----
 * The map grows all through the indexing pass: a range's end moves on with every stretch
 * in which its line runs again, and arrays are moved as they grow. Every snapshot forked
 * from the indexing worker kept its own copy of every page the map rewrote since, and on a
 * 5,000-test pytest run that was some 45 MiB of each snapshot's 100 (the snapshots' memory
 * budget then kept 6 of them). No snapshot reads the map: the worker that finishes the
 * pass sends it to the controller. So the map lives in memory mapped apart and marked
 * MADV_DONTFORK: a fork's child does not get it at all, and forgets it (see `ours`). */

#define CHUNK_BYTES ((size_t)8 << 20)
/* Blocks start this far into a chunk: its header, rounded up to keep them 16-aligned. */
#define CHUNK_HEADER ((sizeof(ArenaChunk) + 15) & ~(size_t)15)

struct ArenaChunk {
    ArenaChunk *next;
    size_t size, used; /* bytes, this header included */
};

/* Bumped in the child of every fork: a tracer whose arena belongs to an older generation
 * has pointers into memory its process does not have. */
static unsigned long fork_generation;
static int at_fork_registered;

static void after_fork_in_child(void)
{
    fork_generation++;
}

static int size_class(size_t bytes)
{
    int class = 0;
    while (((size_t)16 << class) < bytes) {
        class++;
    }
    return class;
}

/* A new chunk of `bytes` (this header included), not yet linked. */
static ArenaChunk *map_chunk(size_t bytes)
{
    ArenaChunk *chunk;
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) {
        return NULL;
    }
    if (!at_fork_registered) {
        at_fork_registered = pthread_atfork(NULL, NULL, after_fork_in_child) == 0;
    }
    (void)madvise(memory, bytes, MADV_DONTFORK); /* if refused, forks copy it: slower, not wrong */
    chunk = memory;
    chunk->next = NULL;
    chunk->size = bytes;
    chunk->used = CHUNK_HEADER;
    return chunk;
}

static void *arena_alloc(LineArena *arena, size_t bytes)
{
    int class = size_class(bytes);
    size_t size = (size_t)16 << class;
    ArenaChunk *chunk = arena->chunks;
    void *block;
    if (class >= ARENA_CLASSES) {
        return NULL;
    }
    if (arena->free_blocks[class] != NULL) {
        block = arena->free_blocks[class];
        arena->free_blocks[class] = *(void **)block;
        return block;
    }
    if (size > CHUNK_BYTES - CHUNK_HEADER) {
        /* Bigger than a chunk's room (a line that ran in a million separate stretches):
         * a chunk of its own, full from the start and kept behind the one being filled. */
        chunk = map_chunk(CHUNK_HEADER + size);
        if (chunk == NULL) {
            return NULL;
        }
        chunk->used = chunk->size;
        if (arena->chunks == NULL) {
            arena->chunks = chunk;
        } else {
            chunk->next = arena->chunks->next;
            arena->chunks->next = chunk;
        }
        return (char *)chunk + CHUNK_HEADER;
    }
    if (chunk == NULL || chunk->size - chunk->used < size) { /* used <= size always */
        chunk = map_chunk(CHUNK_BYTES);
        if (chunk == NULL) {
            return NULL;
        }
        chunk->next = arena->chunks;
        arena->chunks = chunk;
    }
    block = (char *)chunk + chunk->used;
    chunk->used += size;
    return block;
}

static void arena_free(LineArena *arena, void *block, size_t bytes)
{
    int class = size_class(bytes);
    if (block != NULL && bytes > 0) {
        *(void **)block = arena->free_blocks[class];
        arena->free_blocks[class] = block;
    }
}

static void arena_release(LineArena *arena)
{
    ArenaChunk *chunk = arena->chunks;
    while (chunk != NULL) {
        ArenaChunk *next = chunk->next;
        munmap(chunk, chunk->size);
        chunk = next;
    }
    memset(arena, 0, sizeof(*arena));
    arena->generation = fork_generation;
}

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

void rt_linemap_init(Tracer *t)
{
    t->arena.generation = fork_generation;
}

/* The maps' own records (their slots live in the arena). */
static void drop_maps(Tracer *t)
{
    for (Py_ssize_t i = 0; i < t->map_count; i++) {
        Py_DECREF(t->maps[i]->filename);
        PyMem_RawFree(t->maps[i]);
    }
    PyMem_RawFree(t->maps);
    t->maps = NULL;
    t->map_count = t->map_capacity = 0;
}

/* Is the map's memory this process's? In a fork's child it is not: the map is dropped
 * without reading it (its slots were never mapped here) and stays broken, so that
 * nothing is gathered into it again. */
static int ours(Tracer *t)
{
    if (t->arena.generation == fork_generation) {
        return 1;
    }
    drop_maps(t);
    memset(&t->arena, 0, sizeof(t->arena));
    t->arena.generation = fork_generation;
    t->map_broken = 1;
    return 0;
}

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
static LineSlot *slot_for(LineArena *arena, LineMap *map, int line)
{
    int index = line - map->first_line;
    if (index < 0 || index >= map->line_count) {
        int first = index < 0 ? line : map->first_line;
        int last = index < 0 ? map->first_line + map->line_count - 1 : line;
        int count = last - first + 1 + (index < 0 ? 0 : 16);
        LineSlot *slots = arena_alloc(arena, count * sizeof(LineSlot));
        if (slots == NULL) {
            return NULL;
        }
        memset(slots, 0, count * sizeof(LineSlot));
        if (map->line_count) {
            memcpy(slots + (map->first_line - first), map->slots, map->line_count * sizeof(LineSlot));
        }
        arena_free(arena, map->slots, map->line_count * sizeof(LineSlot));
        map->slots = slots;
        map->first_line = first;
        map->line_count = count;
        index = line - first;
    }
    return &map->slots[index];
}

void rt_linemap_record(Tracer *t, PyCodeObject *code, CodeInfo *info, CodeInfo *scratch, int line)
{
    LineMap *map;
    LineSlot *slot;
    if (t->map_broken || !ours(t)) {
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
    if (info->map_index >= t->map_count) { /* named by a map dropped since */
        t->map_broken = 1;
        return;
    }
    map = t->maps[info->map_index];
    if (line < 0) {
        return; /* no line: no breakpoint can be there either */
    }
    slot = slot_for(&t->arena, map, line);
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
        uint32_t *grown = arena_alloc(&t->arena, capacity * sizeof(uint32_t));
        if (grown == NULL) {
            t->map_broken = 1;
            return;
        }
        if (slot->count) {
            memcpy(grown, slot->ranges, slot->count * sizeof(uint32_t));
        }
        arena_free(&t->arena, slot->ranges, slot->capacity * sizeof(uint32_t));
        slot->ranges = grown;
        slot->capacity = capacity;
    }
    slot->ranges[slot->count++] = t->interval;
    slot->ranges[slot->count++] = t->interval + 1;
}

void rt_linemap_clear(Tracer *t)
{
    if (!ours(t)) {
        return;
    }
    drop_maps(t);
    arena_release(&t->arena); /* the slots and ranges, all at once */
}

/* {filename: {line: ranges}}: the ranges of stretches in which each line ran, as bytes of
 * native uint32 pairs (first, end), ascending; code objects of one file are listed one
 * after the other under a line they share (a comprehension's), so a line's ranges may
 * overlap there. Bytes, not lists of ints: a pytest run of 5,000 tests has some 20 million
 * of them, which as Python ints took a gigabyte in the worker and again in the controller.
 * rt_tracer_take_line_map then gives each line the smaller of two forms (smaller_form). */
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

/* A line's ranges as [first, bitmap] when that is smaller: bit i (of byte i / 8, from the
 * low bit) says the line ran in stretch first + i. A line that runs in every other
 * stretch (a loop with a boundary call between two of its lines) has a range per run:
 * humanize's suite had lines with half a million of them, 206 MB of ranges in all. NULL
 * with an exception, or a new reference to `ranges` itself when the ranges are smaller. */
static PyObject *smaller_form(PyObject *ranges)
{
    const uint32_t *pairs = (const uint32_t *)PyBytes_AS_STRING(ranges);
    Py_ssize_t count = PyBytes_GET_SIZE(ranges) / (Py_ssize_t)sizeof(uint32_t);
    uint32_t first = UINT32_MAX, end = 0;
    PyObject *bits, *form;
    unsigned char *bytes;
    for (Py_ssize_t i = 0; i + 1 < count; i += 2) { /* several code objects may share a line: any order */
        first = pairs[i] < first ? pairs[i] : first;
        end = pairs[i + 1] > end ? pairs[i + 1] : end;
    }
    if (count < 2 || end <= first || ((size_t)(end - first) + 7) / 8 + 8 >= (size_t)PyBytes_GET_SIZE(ranges)) {
        return Py_NewRef(ranges);
    }
    if ((bits = PyBytes_FromStringAndSize(NULL, ((Py_ssize_t)(end - first) + 7) / 8)) == NULL) {
        return NULL;
    }
    bytes = (unsigned char *)PyBytes_AS_STRING(bits);
    memset(bytes, 0, PyBytes_GET_SIZE(bits));
    for (Py_ssize_t i = 0; i + 1 < count; i += 2) {
        for (uint32_t stretch = pairs[i]; stretch < pairs[i + 1]; stretch++) {
            bytes[(stretch - first) / 8] |= (unsigned char)(1u << ((stretch - first) % 8));
        }
    }
    form = Py_BuildValue("[kN]", (unsigned long)first, bits);
    return form;
}

/* Each line's value in its smaller form (smaller_form), in place. */
static int compact(PyObject *files)
{
    PyObject *file, *lines, *line, *ranges;
    Py_ssize_t i = 0;
    while (PyDict_Next(files, &i, &file, &lines)) {
        Py_ssize_t j = 0;
        while (PyDict_Next(lines, &j, &line, &ranges)) {
            PyObject *form = smaller_form(ranges);
            if (form == NULL) {
                return -1;
            }
            if (form != ranges && PyDict_SetItem(lines, line, form) < 0) { /* an existing key: no resize */
                Py_DECREF(form);
                return -1;
            }
            Py_DECREF(form);
        }
    }
    return 0;
}

/* The map as a dict appended to `out_list` (None if it is broken); the map is freed and
 * gathering ends. */
int rt_tracer_take_line_map(void *tracer, void *out_list)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    Tracer *t = (Tracer *)tracer;
    PyObject *result = t->map_broken || !ours(t) ? Py_NewRef(Py_None) : as_dict(t);
    if (result != NULL && result != Py_None && compact(result) < 0) {
        Py_CLEAR(result);
    }
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
    (void)ours(t);
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
