"""A recording's stored sources are what replay runs: one edited after recording
(a changed `sources/` member) is refused before replay, in one line."""
from __future__ import annotations

import zipfile

from conftest import cli


def _edited(path, tmp_path):
    """A copy of the recording whose stored program.py prints something else."""
    edited = tmp_path / "edited.retrace"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(edited, "w") as target:
        changed = 0
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("sources/") and b"print('recorded')" in data:
                data, changed = data.replace(b"print('recorded')", b"print('injected')"), changed + 1
            target.writestr(info, data)
    assert changed == 1
    return edited


def test_an_edited_stored_source_is_refused_in_one_line(record, write_program, tmp_path):
    write_program("print('recorded')\n")
    run = record("program.py")
    assert run.stdout == "recorded\n"
    edited = _edited(run.path, tmp_path)
    for command in ("verify", "replay", "inspect"):
        result = cli(command, str(edited), cwd=tmp_path)
        assert result.status == 2 and result.stderr.count("\n") == 1, (command, result.stderr)
        assert "does not match its sha256" in result.stderr and "injected" not in result.stdout
    assert cli("verify", str(run.path), cwd=tmp_path).status == 0
