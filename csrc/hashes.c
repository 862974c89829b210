/* Default hashes that do not come from addresses.
 *
 * object.__hash__ is the object's address, so a set of objects without a __hash__ of
 * their own (asyncio's tasks, a connection pool's connections, sqlalchemy's requirement
 * predicates) iterates in address order, and a program that acts in that order makes its
 * boundary calls in it. A replay cannot give the program's objects the addresses they had
 * when recorded (our own code allocates beside the program's, differently in each mode),
 * so a recording and its replay both run with this hash instead: the n-th object the
 * program hashes for the first time hashes to n. The program does the same things in the
 * same order when replayed, so every such set has the same order in both.
 *
 * - A table maps each hashed object's allocation to its hash. An object's entry goes when
 *   its memory is freed: the object and memory allocators are wrapped, and a free looks its
 *   block up (a byte per bucket says whether any entry may be there, so most frees cost a
 *   load). An object's hash never changes while it lives.
 * - What was hashed before (every object alive at install, every type) keeps its address
 *   hash: dicts and sets made at start-up hold them under it. Only objects of types with
 *   garbage collection are numbered (those alive at install are all in gc.get_objects());
 *   the others (None on 3.11, object(), locks) keep address hashes.
 * - Our own code hashes objects too, differently recorded and replayed. A first hash made
 *   by our code (the innermost frame is ours, or the boundary guard is busy: the inside of
 *   a recorded call, which a replay does not run) keeps the address hash and takes no
 *   number; the program's first hash of such an object later takes a number all the same,
 *   so the numbers of everything the program hashes after it stay the recording's.
 *
 * - Each thread numbers its own objects (from 2026-12-07's recordings on): the main thread
 *   1, 2, 3..., the program's k-th thread k << 32 plus 1, 2, 3... (its logical number, which
 *   the tape gives it as it starts, rt_hashes_thread_begins). Threads run the code between
 *   their events in another interleaving when replayed, so one counter for all gave a
 *   thread's objects other numbers than recorded, and a set of them another order: trio's
 *   Event wakes its waiters in the order of a set of tasks, and after a server thread of
 *   the test had hashed objects of its own, the tasks woke in another order.
 *
 * Everything runs with the GIL held (the object and memory domains require it).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "code_extra.h"
#include "engine.h"
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    void *start;      /* the block the object's memory begins at (before its GC header) */
    Py_hash_t hash;
    int program_seen; /* the program has hashed it (and so taken a number for it) */
} HashEntry;

static HashEntry *table = NULL;
static size_t table_size = 0, table_used = 0; /* size: a power of two */
static unsigned table_bits = 0;
#define BUCKET_BITS 23
static uint8_t *bucket_counts = NULL; /* entries per address bucket, saturating at 255 */

static hashfunc address_hash = NULL; /* object's own tp_hash, as found at install */
static PyMemAllocatorEx original_object_allocator, original_memory_allocator;
static long long program_numbers = 0; /* numbers given to the program's objects (one series) */
static int per_thread = 0;            /* each thread its own series (recordings from 2026-12-07) */
static _Thread_local long long thread_numbers = 0;
static _Thread_local uint64_t thread_series = 0; /* the thread's logical number << 32 */
static int installed = 0, program_running = 0, table_full = 0;
static PyObject *guard = NULL, *busy_name = NULL, *our_prefixes = NULL;
static _Thread_local int classifying = 0;

static inline size_t slot_of(void *start)
{
    return (size_t)((((uintptr_t)start >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - table_bits));
}

static inline size_t bucket_of(void *start)
{
    return ((uintptr_t)start >> 4) & ((1u << BUCKET_BITS) - 1);
}

static HashEntry *find(void *start)
{
    size_t i = slot_of(start);
    for (;;) {
        HashEntry *e = &table[i];
        if (e->start == start) return e;
        if (e->start == NULL) return NULL;
        i = (i + 1) & (table_size - 1);
    }
}

static int grow(void);

static HashEntry *insert(void *start)
{
    if ((table_used + 1) * 2 > table_size && grow() < 0) return NULL;
    size_t i = slot_of(start);
    while (table[i].start != NULL) i = (i + 1) & (table_size - 1);
    table[i].start = start;
    table_used++;
    uint8_t *count = &bucket_counts[bucket_of(start)];
    if (*count < 255) (*count)++;
    return &table[i];
}

static int grow(void)
{
    /* libc's allocator, not Python's: our wrappers must not be entered from here */
    HashEntry *old = table;
    size_t old_size = table_size;
    HashEntry *bigger = calloc(old_size ? old_size * 2 : (1u << 16), sizeof(HashEntry));
    if (bigger == NULL) return -1;
    table = bigger;
    table_size = old_size ? old_size * 2 : (1u << 16);
    table_bits++;
    if (old_size == 0) table_bits = 16;
    table_used = 0;
    for (size_t i = 0; i < old_size; i++) {
        if (old[i].start == NULL) continue;
        size_t j = slot_of(old[i].start);
        while (table[j].start != NULL) j = (j + 1) & (table_size - 1);
        table[j] = old[i];
        table_used++;
    }
    free(old);
    return 0;
}

static void drop(HashEntry *e)
{
    /* linear probing's deletion: shift back the entries whose probe passed this slot */
    size_t hole = (size_t)(e - table), j = hole;
    uint8_t *count = &bucket_counts[bucket_of(e->start)];
    if (*count < 255) (*count)--;
    table_used--;
    for (;;) {
        table[hole].start = NULL;
        for (;;) {
            j = (j + 1) & (table_size - 1);
            if (table[j].start == NULL) return;
            size_t home = slot_of(table[j].start);
            /* table[j] may move to the hole unless its home lies cyclically in (hole, j] */
            if (hole <= j ? (home <= hole || home > j) : (home <= hole && home > j)) break;
        }
        table[hole] = table[j];
        hole = j;
    }
}

static inline HashEntry *entry_of_block(void *block)
{
    if (block == NULL || bucket_counts[bucket_of(block)] == 0) return NULL;
    return find(block);
}

/* -- the allocator wrappers ---------------------------------------------------------- */

static void *wrapped_malloc(void *ctx, size_t size)
{
    PyMemAllocatorEx *original = ctx;
    return original->malloc(original->ctx, size);
}

static void *wrapped_calloc(void *ctx, size_t count, size_t size)
{
    PyMemAllocatorEx *original = ctx;
    return original->calloc(original->ctx, count, size);
}

static void *wrapped_realloc(void *ctx, void *block, size_t size)
{
    PyMemAllocatorEx *original = ctx;
    HashEntry *e = entry_of_block(block);
    if (e == NULL) return original->realloc(original->ctx, block, size);
    HashEntry moved = *e;
    void *result = original->realloc(original->ctx, block, size);
    if (result != NULL && result != block) { /* the object moved with its block */
        drop(find(block));
        HashEntry *at = insert(result);
        if (at != NULL) {
            at->hash = moved.hash;
            at->program_seen = moved.program_seen;
        }
    }
    return result;
}

static void wrapped_free(void *ctx, void *block)
{
    PyMemAllocatorEx *original = ctx;
    HashEntry *e = entry_of_block(block);
    if (e != NULL) drop(e);
    original->free(original->ctx, block);
}

/* -- the hash ------------------------------------------------------------------------ */

static inline void *block_of(PyObject *o)
{
    /* What the allocator returned for the object: GC objects have their GC header before
     * them, and from 3.11 objects with a managed dict (3.12: or weakref list) two pointers
     * more (CPython's _PyType_PreHeaderSize). */
    PyTypeObject *type = Py_TYPE(o);
    Py_ssize_t before = PyType_IS_GC(type) ? 2 * sizeof(void *) : 0;
#ifdef Py_TPFLAGS_MANAGED_WEAKREF
    if (type->tp_flags & (Py_TPFLAGS_MANAGED_DICT | Py_TPFLAGS_MANAGED_WEAKREF)) before += 2 * sizeof(void *);
#else
    if (type->tp_flags & Py_TPFLAGS_MANAGED_DICT) before += 2 * sizeof(void *);
#endif
    return (char *)o - before;
}

static int busy_guard(void)
{
    PyObject *busy = PyObject_GetAttr(guard, busy_name);
    if (busy == NULL) {
        PyErr_Clear();
        return 0;
    }
    int is_busy = busy == Py_True;
    Py_DECREF(busy);
    return is_busy;
}

/* The code of this thread's innermost Python frame, read from the interpreter's own frame
 * records (PyEval_GetFrame would make a frame object for it each time; 3.11's, 3.12's and
 * 3.13's _PyInterpreterFrame in Include/internal/pycore_frame.h). */
static PyCodeObject *innermost_code(void)
{
    PyThreadState *state = PyThreadState_GET();
    PyObject *code;
#if PY_VERSION_HEX >= 0x030D0000
    void *frame = state->current_frame;
    code = frame == NULL ? NULL : *(PyObject **)frame; /* f_executable */
#elif PY_VERSION_HEX >= 0x030C0000
    void *frame = state->cframe == NULL ? NULL : state->cframe->current_frame;
    code = frame == NULL ? NULL : *(PyObject **)frame; /* f_code */
#else
    typedef struct {
        PyObject *f_func, *f_globals, *f_builtins, *f_locals, *f_code;
    } FrameHead311;
    void *frame = state->cframe == NULL ? NULL : state->cframe->current_frame;
    code = frame == NULL ? NULL : ((FrameHead311 *)frame)->f_code;
#endif
    return code != NULL && PyCode_Check(code) ? (PyCodeObject *)code : NULL;
}

/* Is a code object ours? Decided once per code object and kept in one of its co_extra
 * slots (1: not ours, 2: ours); the file name's prefixes are compared only the first time. */
static Py_ssize_t ours_extra_index = -1;

static int innermost_frame_is_ours(void)
{
    PyCodeObject *code = innermost_code();
    if (code == NULL) return 1; /* no Python frame: the interpreter's own work */
    void *known = NULL;
    if (ours_extra_index >= 0 && rt_code_get_extra((PyObject *)code, ours_extra_index, &known) == 0
            && known != NULL) {
        return known == (void *)2;
    }
    PyErr_Clear();
    int ours = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(our_prefixes) && !ours; i++) {
        ours = PyUnicode_Tailmatch(code->co_filename, PyTuple_GET_ITEM(our_prefixes, i), 0, PY_SSIZE_T_MAX, -1) == 1;
    }
    if (ours_extra_index >= 0 && rt_code_set_extra((PyObject *)code, ours_extra_index, ours ? (void *)2 : (void *)1) < 0) {
        PyErr_Clear();
    }
    return ours;
}

/* Is the code asking for a first hash the program's? (Not: ours, or inside a recorded call.) */
static int program_asks(void)
{
    if (!program_running || classifying) return 0;
    classifying = 1; /* a first hash made while we look (a thread's first guard access) is ours */
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    int program = !innermost_frame_is_ours() && !busy_guard();
    PyErr_Restore(type, value, traceback);
    classifying = 0;
    return program;
}

/* The next number of the thread asking (or of the one series). */
static inline Py_hash_t next_number(void)
{
    if (per_thread) return (Py_hash_t)(thread_series + (uint64_t)++thread_numbers);
    return (Py_hash_t)++program_numbers;
}

static Py_hash_t stable_hash(PyObject *o)
{
    /* Only objects of garbage-collected types take numbers: everything alive of those at
     * install is known (gc.get_objects() and the types), so none that a dict or set made
     * before holds can change its hash. Not so for the others (None on 3.11, Ellipsis, a
     * lock in threading's sets of them): they keep their addresses. */
    if (!PyType_IS_GC(Py_TYPE(o))) return address_hash(o);
    void *block = block_of(o);
    HashEntry *e = find(block);
    if (e != NULL && e->program_seen) return e->hash;
    if (e == NULL && table_full) return address_hash(o);
    /* Asking may run code (a thread's first use of the guard, a collection) that hashes
     * and frees objects, moving entries: look ours up again after. */
    int program = program_asks();
    e = find(block);
    if (e != NULL) {
        if (program && !e->program_seen) {
            e->program_seen = 1;
            next_number(); /* taken, as when our code had not hashed it first */
        }
        return e->hash;
    }
    e = insert(block);
    if (e == NULL) { /* no memory for a bigger table: from now on new objects keep their address */
        table_full = 1;
        return address_hash(o);
    }
    e->hash = program ? next_number() : address_hash(o);
    e->program_seen = program;
    return e->hash;
}

static int keep_address_hash(PyObject *o)
{
    HashEntry *e;
    if (Py_TYPE(o)->tp_hash != address_hash && Py_TYPE(o)->tp_hash != stable_hash) return 0;
    if (find(block_of(o)) != NULL) return 0;
    e = insert(block_of(o));
    if (e == NULL) return -1;
    e->hash = address_hash(o);
    e->program_seen = 0;
    return 0;
}

/* Every type from object down: each keeps its address hash, and takes ours for its instances. */
static int patch_types(PyTypeObject *type)
{
    if (keep_address_hash((PyObject *)type) < 0) return -1;
    if (type->tp_hash == address_hash) type->tp_hash = stable_hash;
    PyObject *subclasses = PyObject_CallMethod((PyObject *)type, "__subclasses__", NULL);
    if (subclasses == NULL) {
        PyErr_Clear();
        return 0;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(subclasses); i++) {
        if (patch_types((PyTypeObject *)PyList_GET_ITEM(subclasses, i)) < 0) {
            Py_DECREF(subclasses);
            return -1;
        }
    }
    Py_DECREF(subclasses);
    return 0;
}

/* object.__dict__['__hash__'] (a wrapper descriptor) calls the function it was made with:
 * `object.__hash__(x)` and classes with `__hash__ = object.__hash__` go through it. */
typedef struct {
    PyObject_HEAD
    PyTypeObject *d_type;
    PyObject *d_name, *d_qualname;
    void *d_base, *d_wrapped;
} WrapperDescriptorHead;

static void patch_object_hash_descriptor(void)
{
    /* (an attribute lookup: 3.12's static types keep their dict out of tp_dict) */
    PyObject *descriptor = PyObject_GetAttrString((PyObject *)&PyBaseObject_Type, "__hash__");
    if (descriptor == NULL) {
        PyErr_Clear();
        return;
    }
    if (Py_IS_TYPE(descriptor, &PyWrapperDescr_Type)
            && ((WrapperDescriptorHead *)descriptor)->d_wrapped == (void *)address_hash) {
        ((WrapperDescriptorHead *)descriptor)->d_wrapped = (void *)stable_hash;
    }
    Py_DECREF(descriptor);
}

int rt_hashes_install(void *guard_object, void *prefixes, void *alive)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int result = 0;
    if (installed) goto done;
    bucket_counts = calloc((size_t)1 << BUCKET_BITS, 1);
    if (bucket_counts == NULL || grow() < 0) {
        result = -1;
        goto done;
    }
    guard = Py_NewRef((PyObject *)guard_object);
    our_prefixes = Py_NewRef((PyObject *)prefixes);
    busy_name = PyUnicode_InternFromString("busy");
    address_hash = PyBaseObject_Type.tp_hash;
    ours_extra_index = rt_request_code_extra_index(NULL); /* (values, not pointers: nothing to free) */
    /* The wrappers first: from here on every free is seen. */
    PyMemAllocatorEx wrapper = {NULL, wrapped_malloc, wrapped_calloc, wrapped_realloc, wrapped_free};
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &original_object_allocator);
    PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &original_memory_allocator);
    wrapper.ctx = &original_object_allocator;
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &wrapper);
    wrapper.ctx = &original_memory_allocator;
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &wrapper);
    installed = 1;
    PyObject *objects = (PyObject *)alive;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); i++) {
        if (keep_address_hash(PyList_GET_ITEM(objects, i)) < 0) {
            result = -1;
            goto done;
        }
    }
    if (patch_types(&PyBaseObject_Type) < 0) {
        result = -1;
        goto done;
    }
    patch_object_hash_descriptor();
done:
    if (result < 0) PyErr_Clear(); /* (a cffi call: the caller reads the result, not an exception) */
    PyGILState_Release(gil);
    return result;
}

void rt_hashes_program_begins(int numbers_per_thread)
{
    program_numbers = 0;
    per_thread = numbers_per_thread;
    thread_numbers = 0;
    thread_series = 0;
    program_running = installed;
}

/* A thread of the program begins, as the logical thread ``logical`` of the tape. */
void rt_hashes_thread_begins(long logical)
{
    thread_series = (uint64_t)logical << 32;
    thread_numbers = 0;
}
