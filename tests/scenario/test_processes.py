"""Child processes: a Python child records into the same recording as a process of its own.

`subprocess` with this interpreter, multiprocessing's fork and spawn start methods,
`os.fork()` and pytest-xdist's workers each record and verify 20 times in a row (a
recording that only replays when the timing is lucky fails); the recordings are made
three at a time to keep the suite quick. Other programs stay boundary calls of their
parent. The process tree is what `pids` shows.
"""
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import cli, printed, soak_times

TIMES = soak_times(20)
# The calls that start a child: subprocess spawns with posix_spawn where it can from Python 3.13 on.
SPAWNS = ("_posixsubprocess.fork_exec", "os.posix_spawn")


def record_and_verify(record, times: int, *program: str, env: dict | None = None,
                      status: int = 0) -> list:
    """Record ``program`` ``times`` times and verify every process of each recording;
    returns the runs. Fails with every recording that did not replay exactly."""

    def once(attempt: int):
        run = record(*program, name=f"run-{attempt}.retrace", env=env, verify_after=False)
        verdict = cli("verify", str(run.path))
        return run, verdict

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(once, range(times)))
    problems = [f"recording {attempt + 1}: exit {run.status}\n{run.stderr}\n{verdict.stdout}{verdict.stderr}"
                for attempt, (run, verdict) in enumerate(results) if run.status != status or verdict.status != 0]
    assert not problems, f"{len(problems)} of {times} recordings did not replay exactly:\n" + "\n".join(problems[:2])
    return [run for run, _verdict in results]


def tree(run) -> list[dict]:
    listed = cli("pids", str(run.path), "--json")
    assert listed.status == 0, listed.stderr
    return json.loads(listed.stdout)


def event_number(run, pid: int, *functions: str) -> int:
    events = json.loads(cli("events", str(run.path), "--pid", str(pid), "--json").stdout)
    return next(event["number"] for event in events if event["function"] in functions)


def test_python_children_of_subprocess_are_recorded_and_other_programs_are_not(record, write_program):
    write_program("""
        import os, subprocess, sys, time
        same = os.path.join(os.path.dirname(sys.executable), "python3")
        if not os.path.exists(same):
            same = sys.executable
        first = subprocess.run([sys.executable, "child.py", "1"], capture_output=True, text=True)
        second = subprocess.run([same, "-c", "import child"], capture_output=True, text=True)
        shell = subprocess.run(["sh", "-c", "echo from sh"], capture_output=True, text=True)
        print("children", [first.stdout, second.stdout, shell.stdout])
        print("statuses", [first.returncode, second.returncode, shell.returncode])
    """)
    write_program("""
        import sys, time
        print("child", time.time() > 0, sys.argv[1:])
        sys.exit(len(sys.argv) + 1)
    """, name="child.py")
    runs = record_and_verify(record, TIMES, "program.py")
    run = runs[0]
    assert printed(run)["children"] == ["child True ['1']\n", "child True []\n", "from sh\n"]
    assert printed(run)["statuses"] == [3, 2, 0]
    root, first, second = tree(run)  # sh is not a Python child: not in the tree
    assert [root["started"], first["started"], second["started"]] == ["root", "subprocess", "subprocess"]
    assert first["parent"] == second["parent"] == root["pid"]
    assert (first["program"], first["exit_status"]) == (["child.py", "1"], 3)
    assert (second["program"], second["exit_status"]) == (["-c", "import child"], 2)
    assert all(process["complete"] for process in (root, first, second))
    # The tape keeps the program's own command line: the replay makes the same call.
    events = json.loads(cli("events", str(run.path), "--json").stdout)
    spawns = [event for event in events if event["function"] in SPAWNS]
    assert [event["number"] for event in spawns[:2]] == [first["parent_event"], second["parent_event"]]


def test_multiprocessing_with_the_fork_start_method(record, write_program):
    multiprocessing_program(write_program)
    run = record_and_verify(record, TIMES, "program.py", "fork")[0]
    assert printed(run)["got"][:3] == (7, 49, True)
    assert printed(run)["exit"] == 0
    root, child = tree(run)
    assert (child["parent"], child["started"], child["exit_status"]) == (root["pid"], "multiprocessing-fork", 0)
    assert child["parent_event"] == event_number(run, root["pid"], "os.fork")


def test_multiprocessing_with_the_spawn_start_method(record, write_program):
    multiprocessing_program(write_program)
    run = record_and_verify(record, TIMES, "program.py", "spawn")[0]
    assert printed(run)["got"][:3] == (7, 49, True)
    root, child = tree(run)  # multiprocessing's resource tracker is not the program's: not recorded
    assert (child["parent"], child["started"], child["exit_status"]) == (root["pid"], "multiprocessing-spawn", 0)


def multiprocessing_program(write_program) -> None:
    write_program("""
        import multiprocessing, os, random, sys, time

        def work(connection, number, lock):
            lock.acquire()
            connection.send((number, number * number, os.getpid() > 0, time.time(), random.random()))
            lock.release()
            connection.close()

        if __name__ == "__main__":
            multiprocessing.set_start_method(sys.argv[1])
            lock = multiprocessing.Lock()
            ours, theirs = multiprocessing.Pipe()
            child = multiprocessing.Process(target=work, args=(theirs, 7, lock))
            child.start()
            print("got", ours.recv())
            child.join()
            print("exit", child.exitcode)
    """)


def test_os_fork_children_record_and_replay_from_their_parent(record, write_program):
    write_program("""
        import os, random, time
        before = time.time()
        pid = os.fork()
        if pid == 0:
            print("child", os.getpid() != 0, random.random() < 1, time.time() >= before, flush=True)
            os._exit(7)
        _, status = os.waitpid(pid, 0)
        print("parent", os.waitstatus_to_exitcode(status))
    """)
    run = record_and_verify(record, TIMES, "program.py")[0]
    assert run.stdout.splitlines() == ["child True True True", "parent 7"]
    root, child = tree(run)
    assert (child["parent"], child["started"], child["exit_status"]) == (root["pid"], "fork", 7)
    assert child["parent_event"] == event_number(run, root["pid"], "os.fork")
    # The child's tape starts with the fork's result in the child; replaying it replays its
    # parent up to that fork, then follows the child.
    events = json.loads(cli("events", str(run.path), "--pid", str(child["pid"]), "--json").stdout)
    assert (events[0]["function"], events[0]["result"]) == ("os.fork", "0")
    replayed = cli("replay", str(run.path), "--pid", str(child["pid"]))
    assert (replayed.status, replayed.stdout) == (7, "child True True True\n")
    inspected = cli("inspect", str(run.path), "--pid", str(child["pid"]), "--at", "end", "--json")
    assert inspected.status == 0, inspected.stderr
    state = json.loads(inspected.stdout)
    assert state["pid"] == child["pid"] and state["events"] == len(events)
    assert {local["name"]: local["repr"] for local in state["frames"][0]["locals"]}["pid"] == "0"


def test_the_tree_of_three_processes(record, write_program):
    write_program("""
        import subprocess, sys
        done = subprocess.run([sys.executable, "child.py"], capture_output=True, text=True)
        print("child said", done.stdout.split())
        sys.exit(done.returncode)
    """)
    write_program("""
        import os, sys
        pid = os.fork()
        if pid == 0:
            print("grandchild")
            sys.exit(5)
        print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        sys.exit(3)
    """, name="child.py")
    run = record("program.py")
    assert run.status == 3, run.stderr
    assert printed(run, literal=False)["child"] == "said ['grandchild', 'child', '5']"
    root, child, grandchild = tree(run)
    assert root == {
        "pid": root["pid"], "parent": None, "started": "root", "parent_event": None, "argv": ["program.py"],
        "program": ["program.py"], "exit_status": 3, "complete": True, "failed_tests": [], "became": None}
    assert child == {
        "pid": child["pid"], "parent": root["pid"], "started": "subprocess",
        "parent_event": event_number(run, root["pid"], *SPAWNS), "argv": ["child.py"],
        "program": ["child.py"], "exit_status": 3, "complete": True, "failed_tests": [], "became": None}
    assert grandchild == {
        "pid": grandchild["pid"], "parent": child["pid"], "started": "fork",
        "parent_event": event_number(run, child["pid"], "os.fork"), "argv": ["child.py"],
        "program": ["child.py"], "exit_status": 5, "complete": True, "failed_tests": [], "became": None}
    listed = cli("pids", str(run.path)).stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == [
        str(root["pid"]), f"  {child['pid']}", f"    {grandchild['pid']}"]
    assert listed[2].split("\t")[1:] == [f"fork at event {grandchild['parent_event']}", "exit 5", "child.py"]
    standalone = subprocess.run([sys.executable, "-I", "-S", str(run.path), "--list-pids"],
                                capture_output=True, text=True)
    assert standalone.stdout.split() == [str(root["pid"]), str(child["pid"]), str(grandchild["pid"])]
    verified = cli("verify", str(run.path))
    assert verified.status == 0, verified.stdout
    assert verified.stdout.splitlines()[-1] == "all 3 processes replayed exactly"
    assert f"process {grandchild['pid']} (fork: child.py): matched:" in verified.stdout
    one = cli("verify", str(run.path), "--pid", str(grandchild["pid"]))
    assert one.status == 0 and one.stdout.startswith("matched: ") and "exit status 5" in one.stdout
    assert cli("replay", str(run.path), "--pid", str(grandchild["pid"])).stdout == "grandchild\n"


def test_a_child_still_running_at_the_end_is_packed_as_far_as_it_got(record, write_program, tmp_path):
    write_program("""
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; print('started', flush=True); time.sleep(4)"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        print("child", child.stdout.readline().decode().strip(), child.pid)
    """)
    started = time.monotonic()
    run = record("program.py", verify_after=False)
    took = time.monotonic() - started
    pid = int(run.stdout.split()[-1])
    try:
        assert run.status == 0 and run.stderr == ""
        assert 3 <= took < 5  # the root waited a moment for the child, not for ever
        root, child = tree(run)
        assert (child["pid"], child["complete"], child["exit_status"]) == (pid, False, None)
        assert cli("pids", str(run.path)).stdout.splitlines()[1].split("\t")[2] == "incomplete"
        verified = cli("verify", str(run.path))
        assert verified.status == 0, verified.stdout
        assert f"process {pid} (subprocess: -c " in verified.stdout and ": incomplete: " in verified.stdout
        assert verified.stdout.splitlines()[-1] == "all 2 processes replayed exactly (1 only as far as they were recorded)"
        # When the child ends, the recording is packed already: it writes nothing more.
        while Path(f"/proc/{pid}").exists() and time.monotonic() - started < 20:
            time.sleep(0.1)
        assert not (tmp_path / "run.d").exists()
        assert tree(run)[1]["complete"] is False
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


XDIST_TESTS = """
    import time

    def test_clock():
        assert time.time() > 0

    def test_sum():
        total = 41
        assert total + 1 == 43

    def test_nothing():
        pass
"""
# Only the plugins the run needs: the suite's own (textual snapshots) make each of the
# three processes slower to start.
XDIST = ("-m", "pytest", "-p", "xdist", "-n", "2", "-q", "-p", "no:cacheprovider", "test_xdist.py")
XDIST_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


# The controller's threads (execnet's receivers and xdist's main loop) also share state
# without a lock (WorkerController._down, execnet's channel flags): when such a race goes
# the other way in a replay, the controller diverges, reported with every thread's
# stack. That may happen to at most this many of the TIMES recordings; the workers
# must replay every time.
CONTROLLER_RACES_ALLOWED = max(1, TIMES // 10)  # 2 of 20 in a nightly run


def test_pytest_xdist_controller_and_workers(record, write_program):
    write_program(XDIST_TESTS, name="test_xdist.py")

    def once(attempt: int):
        run = record(*XDIST, name=f"run-{attempt}.retrace", env=XDIST_ENV, verify_after=False)
        return run, json.loads(cli("verify", str(run.path), "--json", timeout=180).stdout)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(once, range(TIMES)))
    assert [run.status for run, _ in results] == [1] * TIMES, [run.stderr for run, _ in results]
    raced = []
    for attempt, (run, verdicts) in enumerate(results):
        controller, *workers = verdicts["processes"]
        assert all(worker["matched"] for worker in workers), f"recording {attempt + 1}: {workers}"
        if not controller["matched"]:
            report = controller["divergence"]
            assert report["threads"] and report["likely_causes"][0].startswith("threads interacted"), report
            raced.append(report["message"])
    assert len(raced) <= CONTROLLER_RACES_ALLOWED, raced
    run = results[0][0]
    assert "1 failed, 2 passed" in run.stdout
    controller, *workers = tree(run)
    assert controller["started"] == "root" and len(workers) == 2
    assert all(worker["parent"] == controller["pid"] and worker["started"] == "subprocess" for worker in workers)
    failing = [worker for worker in workers if worker["failed_tests"]]
    assert [worker["failed_tests"] for worker in failing] == [["test_xdist.py::test_sum"]]
    assert controller["failed_tests"] == []
    assert "\texit 0, 1 failed test\t" in cli("pids", str(run.path)).stdout
    # inspect, without --pid, goes to the worker where the test failed.
    inspected = cli("inspect", str(run.path), "--json")
    assert inspected.status == 0, inspected.stderr
    state = json.loads(inspected.stdout)
    assert state["pid"] == failing[0]["pid"]
    assert state["exception"]["nodeid"] == "test_xdist.py::test_sum"
    source = run.path.parent / "test_xdist.py"
    line = source.read_text().splitlines().index("    assert total + 1 == 43") + 1
    assert (state["exception"]["file"], state["exception"]["line"]) == (str(source), line)


def test_a_program_that_runs_its_own_command_line_again_starts_a_recorded_child(record, write_program, tmp_path):
    """Found in werkzeug's suite: its reloader starts the server again with
    ``[sys.executable, *sys.orig_argv[1:]]``. Recorded, ``sys.orig_argv`` named our
    launch.py, so the child ran a second recorder inside the first one, both writing the
    child's tape: "corrupt tape (bad lz4 frame)". The program sees the command line of
    its plain run, and the child is a recorded child like any other."""
    write_program("""
        import os, subprocess, sys
        print("orig_argv", sys.orig_argv[1:], sys.orig_argv[0] == sys.executable)
        if sys.argv[1:] == ["again"]:
            print("child", os.environ.get("SERVER_CHILD"))
            sys.exit(0)
        again = subprocess.run([sys.executable, *sys.orig_argv[1:], "again"], env=dict(os.environ, SERVER_CHILD="1"),
                               capture_output=True, text=True)
        print("ran again:", again.returncode, again.stdout.splitlines())
    """)
    plain = subprocess.run([sys.executable, "-X", "utf8", "program.py"], cwd=tmp_path, capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    run = record("-X", "utf8", "program.py")
    assert (run.status, run.stdout) == (0, plain.stdout), run.stderr
    assert "orig_argv ['-X', 'utf8', 'program.py'] True\n" in run.stdout
    root, child = tree(run)
    assert (child["started"], child["parent"], child["program"], child["complete"]) == \
        ("subprocess", root["pid"], ["program.py", "again"], True)


def test_a_manager_shared_by_three_processes_replays_in_every_process(record, write_program):
    """A ``multiprocessing.Manager``'s server names each shared object ``'%x' % id(obj)``
    in its replies, and its clients send that name back with each call. Replayed, the
    server's objects lay at other addresses: its first reply was other bytes than
    recorded, and the server process diverged while the others matched (V27)."""
    write_program("""
        import multiprocessing

        def fill(shared, lock, number):
            with lock:
                shared[number] = number * number
                shared["log"] = shared.get("log", []) + [number]

        if __name__ == "__main__":
            with multiprocessing.Manager() as manager:
                shared, lock = manager.dict(), manager.Lock()
                workers = [multiprocessing.Process(target=fill, args=(shared, lock, n)) for n in range(3)]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
                print("squares", sorted((k, v) for k, v in shared.items() if k != "log"))
                print("log", sorted(shared["log"]))
                print("proxy", repr(repr(shared)))  # with its address
    """)
    run = record_and_verify(record, soak_times(5), "program.py")[0]
    assert printed(run)["squares"] == [(0, 0), (1, 1), (2, 4)] and printed(run)["log"] == [0, 1, 2]
    assert printed(run)["proxy"].startswith("<DictProxy object, typeid 'dict' at 0x")
    assert len(tree(run)) == 5  # the root, the manager's server and three workers
    replayed = cli("replay", str(run.path))
    assert (replayed.status, replayed.stdout) == (0, run.stdout)


def test_children_terminated_as_they_start_replay_with_their_parent(record, write_program):
    """``Process.start()`` polls every earlier child in the set ``_children``, in the set's
    order, which followed the objects' addresses: the replay asked ``os.waitpid`` of the
    children in another order and gave one's exit status to another (the parent diverged).
    And a child terminated while it started left an empty tape, "not a retrace tape" to
    verify (a pool's worker that ``terminate()`` reached early: 1 recording in 60)."""
    write_program("""
        import multiprocessing, time

        if __name__ == "__main__":
            children = [multiprocessing.Process(target=time.sleep, args=(10,)) for _ in range(6)]
            for child in children:
                child.start()
                child.terminate()
            for child in children:
                child.join()
            print("exitcodes", [child.exitcode for child in children])
    """)
    runs = record_and_verify(record, soak_times(3), "program.py")
    assert all(printed(run)["exitcodes"] == [-15] * 6 for run in runs)
    for run in runs:
        assert all(not process["started"] or process["program"] == ["program.py"] for process in tree(run))


def test_a_forked_childs_verdict_counts_only_its_own_calls_with_other_arguments(record, write_program):
    """A call with other arguments before the fork is the parent's: the child's replay
    numbers events from its own tape, and its note said "1 call had other arguments ...
    (the first, None)"."""
    write_program("""
        import os
        os.path.exists(f"/nowhere/{id(object())}")  # an address: another path in a replay
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    """)
    run = record("program.py", verify_after=False)
    assert run.status == 0, run.stderr
    verdict = cli("verify", str(run.path))
    assert verdict.status == 0, verdict.stdout
    assert "(the first, None)" not in verdict.stdout, verdict.stdout
    assert verdict.stdout.count("1 call had other arguments") == 1, verdict.stdout
