/* The tracer's per-thread depths: the number of program-code frames on each thread's
 * stack, kept from call and return events and keyed by thread ident.
 *
 * The trace function asks for the calling thread's record on every call and return
 * event; the record of the thread that ran last is cached (rt_current_thread in
 * tracer.h), so only a thread switch searches. A record at depth 0 says nothing and is
 * reused, so threads that come and go do not pile up. After a fork only the thread that
 * forked lives on; records of the others are dropped once the pid has changed.
 */
#include <unistd.h>
#include "tracer.h"

/* The forking thread is the one that ran traced code last: snapshots are taken while
 * the program has one thread. */
static void forget_other_threads_after_fork(Tracer *t)
{
    pid_t pid = getpid();
    if (pid == t->pid) {
        return;
    }
    t->pid = pid;
    if (t->current_thread >= 0) {
        t->threads[0] = t->threads[t->current_thread];
        t->thread_count = 1;
        t->current_thread = 0;
    } else {
        t->thread_count = 0;
    }
    t->suppressing = t->thread_count && t->threads[0].suppressed_by != NULL;
}

static ThreadDepth *find_thread(Tracer *t, unsigned long ident)
{
    for (Py_ssize_t i = 0; i < t->thread_count; i++) {
        if (t->threads[i].ident == ident) {
            return &t->threads[i];
        }
    }
    return NULL;
}

static ThreadDepth *new_thread(Tracer *t, unsigned long ident)
{
    ThreadDepth *record = NULL;
    for (Py_ssize_t i = 0; i < t->thread_count && record == NULL; i++) {
        if (t->threads[i].depth == 0 && t->threads[i].suppressed_by == NULL && t->threads[i].ours_active == 0
            && t->threads[i].program_func == NULL && t->threads[i].program_obj == NULL) {
            record = &t->threads[i];
        }
    }
    if (record == NULL) {
        if (t->thread_count == t->thread_capacity) {
            Py_ssize_t capacity = t->thread_capacity ? 2 * t->thread_capacity : 8;
            ThreadDepth *grown = PyMem_RawRealloc(t->threads, capacity * sizeof(ThreadDepth));
            if (grown == NULL) {
                return NULL;
            }
            t->threads = grown;
            t->thread_capacity = capacity;
        }
        record = &t->threads[t->thread_count++];
    }
    record->ident = ident;
    record->depth = 0;
    record->suppressed_by = NULL;
    record->ours_active = 0;
    record->installed = 0;
    record->program_func = NULL;
    record->program_obj = NULL;
    return record;
}

ThreadDepth *rt_thread_slow(Tracer *t, unsigned long ident)
{
    ThreadDepth *record;
    forget_other_threads_after_fork(t);
    record = find_thread(t, ident);
    if (record == NULL && (record = new_thread(t, ident)) == NULL) {
        return NULL;
    }
    t->current_thread = record - t->threads;
    return record;
}

long rt_thread_depth(Tracer *t, unsigned long ident)
{
    ThreadDepth *record;
    forget_other_threads_after_fork(t);
    record = find_thread(t, ident);
    return record ? record->depth : 0;
}
