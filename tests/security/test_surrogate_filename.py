"""A surrogate-escaped file name (a name that is not UTF-8, as CLI libraries test) is
recorded and replayed like any other; it stopped the recorder once."""
from __future__ import annotations

from conftest import calls, verify


def test_a_program_that_opens_a_surrogate_escaped_name_records_and_replays(record, write_program):
    write_program("""\
        import os, tempfile
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "\\udcff")
        with open(path, "w") as handle:
            handle.write("hello")
        print("names", ascii(os.listdir(folder)))
        print("read", open(path).read())
        """)
    run = record("program.py")
    assert (run.status, run.stderr) == (0, "")
    assert run.stdout == "names ['\\udcff']\nread hello\n"
    assert [event.value for event in calls(run.tape(), "os.listdir")] == [["\udcff"]]
    assert verify(run.path).status == 0
