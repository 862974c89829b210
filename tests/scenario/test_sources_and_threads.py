"""What a recording keeps of the code, and of which thread made each call."""
import json


def test_project_sources_are_stored_and_the_library_is_not(record, write_program, tmp_path):
    write_program("VALUE = 7\n", name="helper.py")
    write_program("import helper, json\nprint(helper.VALUE)\n")
    run = record("program.py")
    assert run.status == 0, run.stderr
    with run.recording() as recording:
        names = recording.names()
        manifest = json.loads(recording.read(f"sources/manifest.{recording.pids()[0]}.json"))
        stored = {path: recording.read(entry["member"]) for path, entry in manifest["modules"].items()}
    assert stored == {str(tmp_path / "program.py"): b"import helper, json\nprint(helper.VALUE)\n",
                      str(tmp_path / "helper.py"): b"VALUE = 7\n"}
    assert not [name for name in names if name.endswith("json/__init__.py")]
    assert "msgpack" in manifest["distributions"]


def test_sources_reached_through_symbolic_links_are_stored_and_links_into_the_library_are_not(
        record, write_program, tmp_path):
    """The end of a recording resolves each module's folder once, not every path: a linked
    file or folder must still count where its target is."""
    import os
    import sysconfig

    write_program("A = 1\n", name="elsewhere/real_module.py")
    write_program("B = 2\n", name="real_folder/in_folder.py")
    os.symlink(tmp_path / "elsewhere" / "real_module.py", tmp_path / "linked_module.py")
    os.symlink(tmp_path / "real_folder", tmp_path / "linked_folder")
    library_module = os.path.join(sysconfig.get_paths()["stdlib"], "colorsys.py")
    os.symlink(library_module, tmp_path / "library_link.py")
    write_program("import sys\nsys.path.insert(0, 'linked_folder')\n"
                  "import linked_module, in_folder, library_link\nprint(linked_module.A + in_folder.B)\n")
    run = record("program.py")
    assert (run.status, run.stdout) == (0, "3\n"), run.stderr
    with run.recording() as recording:
        manifest = json.loads(recording.read(f"sources/manifest.{recording.pids()[0]}.json"))
    assert sorted(os.path.basename(path) for path in manifest["modules"]) == \
        ["in_folder.py", "linked_module.py", "program.py"]


def test_every_event_names_its_logical_thread(record, write_program):
    write_program("""
        import threading, time
        results = []
        def worker():
            results.append(time.time())
        first = time.time()
        thread = threading.Thread(target=worker)
        thread.start(); thread.join()
        print(repr(first), repr(results[0]))
    """)
    run = record("program.py")
    assert run.status == 0, run.stderr
    clock = [e for e in run.tape().events if e.function == "time.time"]
    assert [e.thread for e in clock] == [0, 1]
    assert run.stdout.split() == [repr(clock[0].value), repr(clock[1].value)]
