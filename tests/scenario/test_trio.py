"""trio, recorded and replayed: its run loop and the threads that hand it work."""
from conftest import assert_replay_prints_what_the_recording_printed, printed, record_and_verify


def test_threads_hand_results_back_to_the_run(record, write_program):
    """Found in trio's suite: the run reads its entry queue without the lock the threads
    append under, a race the replay lost (verify diverged 3 times in 3 here, "the tape
    expected select.epoll.poll(...), the program asked for time.perf_counter()")."""
    write_program("""
        import time
        import trio

        def blocking(n):
            time.sleep(0.001)
            return n * n

        async def ticker(got):
            for index in range(30):
                got.append(index)
                await trio.sleep(0)

        async def main():
            got, results = [], []
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ticker, got)
                for n in range(40):
                    results.append(await trio.to_thread.run_sync(blocking, n))
                    results.append(await trio.to_thread.run_sync(lambda: trio.from_thread.run_sync(lambda: len(got))))
            print("squares", sum(results[::2]))
            print("seen", results[1::2][-1])

        trio.run(main)
    """)
    run = record_and_verify(record, 3)
    assert printed(run) == {"squares": sum(n * n for n in range(40)), "seen": 30}
    assert_replay_prints_what_the_recording_printed(run)
