"""Clocks: what the program printed is what the tape holds."""


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
