/* SIGTERM in a recorded process: the tape's last events are written before it dies.
 *
 * A handler of Python's runs only when the main thread comes back to the interpreter:
 * a pool's worker blocked in sem_wait when SIGTERM came between the interpreter's last
 * look at its signals and the wait never ran it, and never died, and its parent waited
 * in join() for ever. So the handler is a C one, and does what a C handler may: it notes
 * the signal, and the tape's flusher thread (core/tape/writer.py), which looks every
 * 100 ms, writes the tape and kills the process with SIGTERM at its default action
 * (core/bootstrap/termination.py). While no flusher runs (before it starts, around a
 * fork, after the recording ended or failed), the handler puts the default action back
 * and raises the signal again: the process dies at once, as it would have unrecorded.
 * SA_RESTART: the program's reads and waits go on as they would (the signal is not the
 * program's). Python's signal module never sees this handler: signal.getsignal still
 * says SIG_DFL, and a handler the program installs replaces it.
 */
#include "engine.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t flusher_running = 0;
static volatile sig_atomic_t sigterm_seen = 0;

static int set_action(void (*handler)(int))
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = handler == SIG_DFL ? 0 : SA_RESTART;
    return sigaction(SIGTERM, &action, NULL);
}

static void on_sigterm(int signal_number)
{
    if (flusher_running) {
        sigterm_seen = 1;
        return;
    }
    set_action(SIG_DFL);
    raise(signal_number);  /* blocked until this handler returns; then it kills */
}

/* A child forked by C (subprocess's fork_exec) has no flusher thread: until it execs,
 * which puts SIGTERM back to its default action, SIGTERM must kill it at once. */
static void no_flusher_in_child(void)
{
    flusher_running = 0;
    sigterm_seen = 0;
}

int rt_sigterm_catch(void)
{
    static int child_handler_registered = 0;
    if (!child_handler_registered && pthread_atfork(NULL, NULL, no_flusher_in_child) == 0)
        child_handler_registered = 1;
    sigterm_seen = 0;
    return set_action(on_sigterm);
}

void rt_sigterm_flusher_running(int running)
{
    flusher_running = running ? 1 : 0;
}

int rt_sigterm_seen(void)
{
    return sigterm_seen;
}

int rt_sigterm_release(void)
{
    struct sigaction current;
    if (sigaction(SIGTERM, NULL, &current) != 0)
        return -1;
    if (current.sa_handler != on_sigterm)
        return 0;  /* the program's own handler, or none: not ours to change */
    return set_action(SIG_DFL);
}
