"""Credentials inside environment values (a URL's password, ``password=``/``token=``
parameters) are not stored in the recording; replay still works, and a program whose
behaviour depends on one is told so in the divergence report."""
from __future__ import annotations

import zipfile

from conftest import cli, verify
from retrace_core.tape.frames import decompress_frames

SECRETS = {"DATABASE_URL": "postgres://app:hunter2@db.example:5432/shop",
           "LEGACY_DSN": "host=db user=app password=s3cr3t-pw dbname=shop",
           "SERVICE_ENDPOINT": "https://api.example/v1?region=eu&token=tok-777&x=1"}


def _everything_stored(path) -> bytes:
    """Every member of the recording, tapes decompressed."""
    stored = b""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            data = archive.read(info)
            if info.filename.endswith(".bin"):
                data = decompress_frames(data, info.filename)[0]
            stored += data
    return stored


def test_credentials_inside_values_are_not_stored_and_replay_works(record, write_program):
    write_program("""\
        import os, urllib.parse
        url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
        print("host", repr(url.hostname), "user", repr(url.username))
        print("has", "password=" in os.environ["LEGACY_DSN"], "token=" in os.environ["SERVICE_ENDPOINT"])
        """)
    run = record("program.py", env=SECRETS)
    assert (run.status, run.stderr) == (0, "")
    assert run.stdout == "host 'db.example' user 'app'\nhas True True\n"
    stored = _everything_stored(run.path)
    for secret in (b"hunter2", b"s3cr3t-pw", b"tok-777"):
        assert secret not in stored
    assert b"postgres://app:redacted-by-retrace@db.example:5432/shop" in stored
    index = run.recording().index
    assert {"DATABASE_URL", "LEGACY_DSN", "SERVICE_ENDPOINT"} <= set(index["redacted"])
    assert index["env"]["DATABASE_URL"] == "postgres://app:redacted-by-retrace@db.example:5432/shop"
    assert verify(run.path).status == 0


def test_a_program_that_uses_the_password_diverges_and_is_told_why(record, write_program):
    write_program("""\
        import os, urllib.parse
        print(urllib.parse.urlsplit(os.environ["DATABASE_URL"]).password)
        """)
    run = record("program.py", env=SECRETS, verify_after=False)
    assert run.stdout == "hunter2\n"
    verdict = cli("verify", str(run.path))
    assert verdict.status == 1
    assert "DATABASE_URL" in verdict.stdout and "redacted-by-retrace" in verdict.stdout
