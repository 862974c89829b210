/* Snapshot processes and the controller: nothing may outlive the controller.
 *
 * An active replay worker asks the kernel to kill it when its parent dies
 * (PR_SET_PDEATHSIG). Paused snapshots do not: they exit when their connection to the
 * controller closes, and a worker forked from a snapshot dies with that snapshot.
 */
#include "engine.h"

#ifdef __linux__
#include <sys/prctl.h>
#endif

int rt_die_with_parent(int signal_number)
{
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, signal_number, 0, 0, 0);
#else
    (void)signal_number;
    return -1;
#endif
}
