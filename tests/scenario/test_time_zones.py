"""A time zone the program makes after its first boundary call replays: the player
reads the tape ahead of the program, and decoding a ZoneInfo there imported zoneinfo and
filled its cache before the program's own import and ZoneInfo(key), whose boundary calls
(sysconfig's stats, the zone file's reads) are on the tape. Found in arrow's suite."""
import json

from conftest import cli

PROGRAM = """
import datetime, os

print(os.getcwd() != "")
from zoneinfo import ZoneInfo

paris = ZoneInfo("Europe/Paris")
now = datetime.datetime.now(paris)
print(now.tzinfo, now.tzinfo is paris)
print(datetime.datetime.now(ZoneInfo("Asia/Tokyo")).tzinfo)
"""


def test_a_zone_made_after_the_first_boundary_call_replays(record, write_program, tmp_path):
    write_program(PROGRAM)
    run = record("program.py")
    assert run.stdout.splitlines() == ["True", "Europe/Paris True", "Asia/Tokyo"], run.stderr
    state = json.loads(cli("inspect", str(run.path), "--at", "end", "--json", cwd=tmp_path).stdout)
    assert state.get("divergence") is None and state["position"] == state["end"]
