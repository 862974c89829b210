/* The tracer's state, shared by tracer.c (the trace function and the cdef surface),
 * codeinfo.c (the per-code cache) and threads.c (per-thread depths). Not part of the
 * cdef: Python sees a tracer only as `void *`. */
#ifndef RETRACE_TRACER_H
#define RETRACE_TRACER_H

#include <Python.h>
#include <frameobject.h>
#include <pythread.h>
#include <stdint.h>
#include <sys/types.h>

enum { REASON_TARGET, REASON_BREAKPOINT, REASON_STEP, REASON_EXCEPTION, REASON_RETURN, REASON_COUNT };

/* The kinds of code of scope.py's prefix rules (LIBRARY, PROGRAM, OURS there). */
#define RT_LIBRARY 0
#define RT_PROGRAM 1
#define RT_OURS 2

/* What the tracer decided about one code object; lives in the code's co_extra slot. */
typedef struct {
    uint32_t tracer_id;             /* the tracer that filled this entry */
    uint32_t breakpoint_generation; /* has_breakpoints is valid for this generation */
    char is_program;                /* its file's rule is RT_PROGRAM: its lines count */
    char is_ours;                   /* RT_OURS: nothing it calls counts (see suppressed_by) */
    char has_breakpoints;           /* a breakpoint is on a line of its (first, last line) */
    int32_t map_index;              /* its LineMap in the tracer's maps (linemap.c), -1: none yet */
} CodeInfo;

typedef struct LineSlot LineSlot;
typedef struct LineMap LineMap;
typedef struct ArenaChunk ArenaChunk;

/* Where the line map's slots and ranges live (linemap.c): memory mapped apart and not
 * inherited by a fork. Blocks come in sizes of 16 << class bytes. */
#define ARENA_CLASSES 40
typedef struct {
    ArenaChunk *chunks;
    void *free_blocks[ARENA_CLASSES];
    unsigned long generation; /* the fork generation whose memory this is */
} LineArena;

typedef struct {
    unsigned long ident;
    long depth;
    /* The program frame our own code called (a namedtuple's __new__ from our codec):
     * until it returns, nothing on this thread counts. Compared by identity only. */
    PyFrameObject *suppressed_by;
    /* Frames of our own code on its stack (sys.monitoring only): while there are none, no
     * program frame can have been called by our code, and no frame need be made to ask. */
    long ours_active;
    int installed;        /* our trace function was put on this thread (tracer.c, not sys.monitoring) */
    /* The program's own C trace function on this thread (coverage's CTracer under --cov: one
     * per thread, each with its own stack of the thread's frames), which took CPython 3.11's
     * one trace slot from ours: ours calls it on, for every event of this thread (tracer.c,
     * keep_slot). One for all threads had coverage's tracer of one thread called for another
     * thread's frames: its stack went out of step and past its end (heap corruption). */
    Py_tracefunc program_func;
    PyObject *program_obj;
} ThreadDepth;

typedef struct {
    PyObject *filename;
    long line;
} Breakpoint;

/* "a line event in thread `thread` (any if any_thread) at depth <= max_depth (any if
 * any_depth)"; used for step and for remembering. */
typedef struct {
    int on;
    int any_thread;
    unsigned long thread;
    int any_depth;
    long max_depth;
} DepthPredicate;

typedef struct {
    PyObject_HEAD
    uint32_t id;
    int active;
    int monitoring;       /* events come from sys.monitoring (monitor.c), not a trace function */
    uint32_t trace_generation; /* sys.monitoring: a thread counts if it started in this one */
    PyObject *rules;      /* ((prefix, kind), ...), kind one of RT_*; longest prefix first */
    PyObject *on_stop;
    PyObject *reasons[REASON_COUNT];
    long long position;
    int paused;           /* > 0: events are ignored (a garbage collection is running) */
    int suppressing;      /* threads with suppressed_by set: only then is it looked at */
    long long target;     /* -1: none */
    int stop_on_exception;
    Breakpoint *breakpoints;
    Py_ssize_t breakpoint_count;
    PyObject *breakpoint_files; /* set of str, or NULL */
    uint32_t breakpoint_generation;
    DepthPredicate step;
    int remember_breakpoints;
    DepthPredicate remember;
    long long last_hit;   /* -1: none */
    /* Returns of program frames at depth return_depth or shallower (-1: none) in thread return_thread
     * are handed to on_stop ("return"), the value appended to returns first. */
    long return_depth;
    unsigned long return_thread;
    PyObject *returns;    /* a list, or NULL */
    /* The shallowest depth any thread returned to since rt_tracer_take_shallowest last
     * asked (the indexing pass, at each snapshot): a stretch whose shallowest depth is
     * deeper than a watched frame ran none of that frame's lines. */
    long shallowest;
    /* A watch on plain local names of one frame (control/watching.py): in that frame the step
     * stops only at lines that store a watched name and at the line after each; NULL: at all. */
    PyObject *watch_frame;
    PyObject *watch_code;        /* its code: other code is let by without asking for a frame */
    unsigned char *watch_lines;  /* [line] 1 where a watched name is stored */
    int watch_line_count, watch_after_store;
    int line_checks;      /* any of the above is on: line events look further */
    ThreadDepth *threads;
    Py_ssize_t thread_count, thread_capacity, current_thread;
    pid_t pid;
    /* the line map (linemap.c): gathered while line_map_on, in the stretch `interval` */
    int line_map_on, map_broken;
    uint32_t interval;
    LineMap **maps;
    Py_ssize_t map_count, map_capacity;
    LineArena arena;
    long long *event_positions; /* noted by the indexing pass (rt_note_event) */
    Py_ssize_t event_count, event_capacity;
    /* A sighting (monitor.c): while the tracer is stopped, each run of a breakpoint's line
     * calls sight_callback with the frame; nothing counts. */
    int sighting;
    int sight_lost;       /* 3.11: the program set a trace function of its own meanwhile */
    PyObject *sight_callback;
} Tracer;

/* codeinfo.c */
int rt_codeinfo_init(void);
CodeInfo *rt_code_info(Tracer *t, PyCodeObject *code, CodeInfo *scratch);
int rt_at_breakpoint(Tracer *t, PyCodeObject *code, CodeInfo *info, int line);

/* stops.c: what a line or return of program code does (frame NULL: the current one) */
int rt_call_on_stop(Tracer *t, int reason, PyFrameObject *frame);
int rt_count_line(Tracer *t, PyCodeObject *code, CodeInfo *info, CodeInfo *scratch, int line,
                  PyFrameObject *frame);
int rt_count_return(Tracer *t, ThreadDepth *thread, PyObject *value, PyFrameObject *frame);
int rt_called_by_us(Tracer *t, PyFrameObject *frame);
void rt_sight_run(Tracer *t, PyFrameObject *frame);

/* tracer.c: tracing ends on the calling thread (on_stop raised) */
void rt_untrace_here(Tracer *t);

/* monitor.c: sys.monitoring on 3.12 and later */
int rt_monitor_available(void);
int rt_monitor_tool_id(void);
int rt_monitor_switch(Tracer *t, int on);
void rt_monitor_trace_here(Tracer *t, int on);
int rt_monitor_sight(Tracer *t, int on);

/* linemap.c */
void rt_linemap_record(Tracer *t, PyCodeObject *code, CodeInfo *info, CodeInfo *scratch, int line);
void rt_linemap_init(Tracer *t);
void rt_linemap_clear(Tracer *t);
PyObject *rt_note_event(PyObject *self, PyObject *unused);
PyObject *rt_take_event_positions(PyObject *self, PyObject *unused);
PyObject *rt_restart_events(PyObject *self, PyObject *unused);
PyObject *rt_note_break(PyObject *self, PyObject *unused);

/* threads.c */
ThreadDepth *rt_thread_slow(Tracer *t, unsigned long ident);
long rt_thread_depth(Tracer *t, unsigned long ident);

/* The calling thread's record (NULL only when out of memory). */
static inline ThreadDepth *rt_current_thread(Tracer *t)
{
    unsigned long ident = PyThread_get_thread_ident();
    if (t->current_thread >= 0 && t->threads[t->current_thread].ident == ident) {
        return &t->threads[t->current_thread];
    }
    return rt_thread_slow(t, ident);
}

#endif
