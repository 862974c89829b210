"""asyncio's dealings with the process: its children (a pidfd watcher from Python 3.13)
and signals delivered through the loop's self-pipe record and replay exactly."""
from conftest import assert_replay_prints_what_the_recording_printed, printed, record_and_verify


def test_asyncio_subprocesses_replay_with_the_loops_child_watcher(record, write_program):
    """From Python 3.13 asyncio waits for a child through a pidfd, after checking that it
    can with ``os.pidfd_open(os.getpid())``. Replayed, getpid answered the recorded pid,
    the real pidfd_open of that pid failed, and asyncio took its other watcher: "the tape
    expected os.close(7), the program asked for os.pipe()" (2 of 2 recordings)."""
    write_program("""
        import asyncio, sys

        async def main():
            children = [await asyncio.create_subprocess_exec(sys.executable, "-c", f"print({n} * 2)",
                                                             stdout=asyncio.subprocess.PIPE)
                        for n in range(3)]
            outputs = await asyncio.gather(*(child.communicate() for child in children))
            print("outputs", [output for output, _errors in outputs])
            print("statuses", [child.returncode for child in children])

        asyncio.run(main())
    """)
    run = record_and_verify(record, 2)
    assert printed(run) == {"outputs": [b"0\n", b"2\n", b"4\n"], "statuses": [0, 0, 0]}
    assert_replay_prints_what_the_recording_printed(run)


def test_a_signal_handled_by_the_loop_replays(record, write_program):
    """``loop.add_signal_handler`` has the interpreter write the signal's number to the
    loop's self-pipe (``signal.set_wakeup_fd``). Replayed, that fd was the recorded number
    of a socket that is not open, and the interpreter's failed write printed "Exception
    ignored ... wakeup fd" on stderr: a divergence (2 of 2 recordings)."""
    write_program("""
        import asyncio, os, signal

        async def main():
            fired = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, fired.set)
            os.kill(os.getpid(), signal.SIGUSR2)
            await asyncio.wait_for(fired.wait(), 5)
            print("fired", fired.is_set())

        asyncio.run(main())
    """)
    run = record_and_verify(record, 2)
    assert (run.status, run.stdout) == (0, "fired True\n"), run.stderr
    assert_replay_prints_what_the_recording_printed(run)
