"""The recorded program as a child of `retrace-tui record`: signals sent to `record`
reach it, and it does not outlive `record`.

- SIGINT, SIGTERM and SIGHUP sent to `record` (``kill PID``) are passed on. A signal
  the terminal sends (Ctrl-C, hang-up) reaches the whole foreground group, the program
  with it, and is not passed on again.
- Outside a terminal's foreground (CI, ``timeout``, a script), the program gets a
  process group of its own, so a signal to `record`'s group reaches it once, through
  `record`, which passes it to the program's group.
- If `record` dies (even by SIGKILL), the program gets SIGTERM (``PR_SET_PDEATHSIG``)
  and, from a small watchdog, SIGKILL after :data:`KILL_GRACE` seconds. Its tapes stay
  in ``REC.d``.
"""
from __future__ import annotations

import os
import signal
import subprocess

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
KILL_GRACE = 3.0  # seconds between the SIGTERM a dead `record` leaves and the SIGKILL
_SI_KERNEL = 0x80  # si_code of a signal the kernel sent (a terminal's Ctrl-C or hang-up)
_PR_SET_PDEATHSIG = 1
_DONE = b"d"


def run(command: list[str], environment: dict) -> int:
    """Run ``command`` to its end; its exit status (negative: killed by that signal)."""
    own_group = not _in_terminal_foreground()
    prctl = _prctl()
    waited = (*FORWARDED, signal.SIGCHLD)
    parent = os.getpid()
    signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    try:
        # close_fds=False: the program inherits what a plain run would (a make jobserver's
        # pipe, an activated socket); what `record` opened itself is close-on-exec.
        process = subprocess.Popen(command, env=environment, close_fds=False,
                                   preexec_fn=lambda: _in_child(parent, own_group, prctl, waited))
        watchdog = _start_watchdog(process.pid)
        try:
            while process.poll() is None:
                info = signal.sigtimedwait(waited, 0.5)
                if info is not None and info.si_signo != signal.SIGCHLD and process.poll() is None:
                    _pass_on(process.pid, info, own_group)
        finally:
            _stop_watchdog(*watchdog)
        return process.returncode
    finally:
        while signal.sigtimedwait(waited, 0) is not None:
            pass  # handled above, or too late to matter: the program has ended
        signal.pthread_sigmask(signal.SIG_UNBLOCK, waited)


def _pass_on(pid: int, info, own_group: bool) -> None:
    if not own_group and info.si_code == _SI_KERNEL:
        return  # the terminal sent it to the program too
    try:
        if own_group:
            os.killpg(pid, info.si_signo)
        else:
            os.kill(pid, info.si_signo)
    except ProcessLookupError:
        pass


def _in_terminal_foreground() -> bool:
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    return False


def _prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None  # not Linux: the watchdog alone ends the program


def _in_child(parent: int, own_group: bool, prctl, blocked: tuple) -> None:
    """Between fork and exec, in the program's process."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
    if own_group:
        os.setpgid(0, 0)
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # `record` died before the line above
            os.kill(os.getpid(), signal.SIGTERM)


def _start_watchdog(pid: int) -> tuple[int, int]:
    """A process of its own session that SIGKILLs ``pid`` when `record` dies without
    saying it is done, after :data:`KILL_GRACE` seconds. (write end, its pid)."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1
    read_end, write_end = os.pipe()
    watchdog = os.fork()
    if watchdog == 0:
        try:
            _watch(read_end, pidfd, pid)
        finally:
            os._exit(0)
    os.close(read_end)
    if pidfd >= 0:
        os.close(pidfd)
    return write_end, watchdog


def _watch(read_end: int, pidfd: int, pid: int) -> None:
    os.setsid()  # a signal to `record`'s group does not end the watchdog
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (*FORWARDED, signal.SIGCHLD))
    for sig in FORWARDED:
        signal.signal(sig, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)  # never hold `record`'s output pipes open
    keep = {0, 1, 2, read_end, pidfd}
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        open_fds = list(range(3, 1024))
    for fd in open_fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    if os.read(read_end, 1) == _DONE:
        return
    import select
    import time

    if pidfd >= 0:
        if not select.select([pidfd], [], [], KILL_GRACE)[0]:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        return
    deadline = time.monotonic() + KILL_GRACE
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _stop_watchdog(write_end: int, watchdog: int) -> None:
    try:
        os.write(write_end, _DONE)
    finally:
        os.close(write_end)
        os.waitpid(watchdog, 0)
