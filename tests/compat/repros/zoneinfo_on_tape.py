"""Found in arrow (tests/conftest.py: `from zoneinfo import ZoneInfo` during collection).

Recorded, the program's own `import zoneinfo` runs zoneinfo._tzpath.reset_tzpath(), whose
sysconfig.get_config_var("TZPATH") computes sysconfig's variables: realpath(sys.executable)
(os.lstat of every component) and os.stat of Modules/Setup -- events on the tape. Replayed,
the player has already imported zoneinfo (and made ZoneInfo objects) to decode a ZoneInfo
value of the tape (core/tape/codec.py), so the import does nothing and those calls are not
asked for: verify diverges at the program's next call ("the tape expected os.lstat('/tmp'),
the program asked for ..."). ZoneInfo's cache has the same effect on ZoneInfo(key) file reads.
"""
import datetime
import os

print(os.getcwd() != "")
from zoneinfo import ZoneInfo  # noqa: E402  (after a first boundary call, as in pytest)

print(datetime.datetime.now(ZoneInfo("Europe/Paris")).tzinfo)  # a ZoneInfo value on the tape
