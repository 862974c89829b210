"""Clocks: what the program printed is what the tape holds."""
import json
import subprocess
import sys

from conftest import cli


def results(tape, function):
    return [event.value for event in tape.events if event.function == function]


def test_time_functions_recorded_with_the_values_the_program_saw(record, write_program):
    write_program("""
        import time
        print(repr(time.time()))
        print(time.time_ns())
        print(repr(time.monotonic()), time.monotonic_ns())
        print(repr(time.perf_counter()), time.perf_counter_ns())
        print(repr(time.process_time()), time.process_time_ns())
        print(repr(time.thread_time()), time.thread_time_ns())
        print(time.strftime("%Y-%m-%d %H:%M:%S"))
        print(tuple(time.localtime()), tuple(time.gmtime()))
        print(repr(time.mktime(time.localtime(0))))
        time.sleep(0.01)
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    lines = run.stdout.splitlines()
    tape = run.tape()
    assert lines[0] == repr(results(tape, "time.time")[0])
    assert lines[1] == str(results(tape, "time.time_ns")[0])
    assert lines[2] == f"{results(tape, 'time.monotonic')[0]!r} {results(tape, 'time.monotonic_ns')[0]}"
    assert lines[3] == f"{results(tape, 'time.perf_counter')[0]!r} {results(tape, 'time.perf_counter_ns')[0]}"
    assert lines[4] == f"{results(tape, 'time.process_time')[0]!r} {results(tape, 'time.process_time_ns')[0]}"
    assert lines[5] == f"{results(tape, 'time.thread_time')[0]!r} {results(tape, 'time.thread_time_ns')[0]}"
    assert lines[6] == results(tape, "time.strftime")[0]
    local, utc = results(tape, "time.localtime")[0], results(tape, "time.gmtime")[0]
    assert lines[7] == f"{tuple(local)} {tuple(utc)}"
    assert type(local).__name__ == "struct_time"
    assert lines[8] == repr(results(tape, "time.mktime")[0])
    sleep = [e for e in tape.events if e.function == "time.sleep"]
    assert [e.arguments for e in sleep] == [(0.01,)]


def test_datetime_now_utcnow_today_and_date_today(record, write_program):
    write_program("""
        import datetime, warnings
        warnings.simplefilter("ignore")
        print(repr(datetime.datetime.now()))
        print(repr(datetime.datetime.now(datetime.timezone.utc)))
        print(repr(datetime.datetime.utcnow()))
        print(repr(datetime.datetime.today()))
        print(repr(datetime.date.today()))
        class Sub(datetime.datetime):
            pass
        print(type(Sub.now()).__name__)
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    tape = run.tape()
    now = results(tape, "datetime.datetime.now")
    lines = run.stdout.splitlines()
    assert lines[0] == repr(now[0])
    assert lines[1] == repr(now[1])
    assert lines[2] == repr(results(tape, "datetime.datetime.utcnow")[0])
    today = results(tape, "datetime.date.today")
    assert lines[3] == repr(today[0]) and lines[4] == repr(today[1])
    assert lines[5] == "Sub"
    # Nested clock reads inside a recorded call are not events of their own.
    assert not [e for e in tape.events if e.function == "time.time"]


def test_utcnow_warns_as_unrecorded_from_the_programs_line_and_replays(record, write_program, tmp_path):
    """3.12 deprecates ``datetime.utcnow()``: its C code warns at the frame that called it.
    Recorded, that frame was our wrapper (the warning named retrace's clocks.py and pytest
    read that file's source); replayed, the wrapper answered from the tape without calling
    it, so no warning came and the replay diverged (freezegun's suite on 3.12)."""
    write_program("""
        import datetime, linecache, warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            now = datetime.datetime.utcnow()
        for warning in caught:
            print(warning.category.__name__, warning.filename.rpartition("/")[2], warning.lineno,
                  linecache.getline(warning.filename, warning.lineno).strip())
        print(type(now).__name__, now.tzinfo)
    """)
    plain = subprocess.run([sys.executable, "program.py"], cwd=tmp_path, capture_output=True, text=True)
    run = record("program.py")  # verified after the test, as every recording
    assert run.status == 0, run.stderr
    assert run.stdout == plain.stdout
    if sys.version_info >= (3, 12):
        assert run.stdout.splitlines()[0] == "DeprecationWarning program.py 5 now = datetime.datetime.utcnow()"
    shown = cli("inspect", str(run.path), "--at", "end", "--json", cwd=tmp_path)
    assert json.loads(shown.stdout).get("divergence") is None


def test_process_time_leaves_out_the_recorders_own_thread(record, write_program):
    """process_time() is the CPU time of every thread of the process, and recorded, the
    tape's flusher thread was one more: tqdm's suite checks that a 0.2 s sleep uses under
    0.1 ms of CPU and skipped 7 tests recorded that it passed plain. Here the CPU time the
    process used beyond its threads' own (as each measured it) was 3 ms recorded, 0.1 ms
    plain; the flusher's is left out now."""
    write_program("""
        import threading, time

        spent = {}

        def busy():
            began = time.thread_time()
            for number in range(100_000):
                time.time()
            spent["worker"] = time.thread_time() - began

        start, main_began = time.process_time(), time.thread_time()
        worker = threading.Thread(target=busy)
        worker.start()
        worker.join()
        time.sleep(0.5)  # the recorder writes its tape meanwhile
        process = time.process_time() - start
        threads = time.thread_time() - main_began + spent["worker"]
        print("beyond the threads (ms)", round((process - threads) * 1000, 2))
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    beyond = float(run.stdout.split()[-1])
    assert beyond < 1.5, run.stdout
