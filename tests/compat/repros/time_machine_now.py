"""Found in structlog (tests/processors/test_renderers.py test_local, @time_machine.travel):
the recorded program dies of SIGSEGV ("Fatal Python error: Segmentation fault" in
datetime.datetime.now()); results change (plain 900 passed; recorded: no summary).

time-machine (pip install time-machine; a C extension) travels by swapping the C function
pointers of datetime.datetime.now, time.time, etc. in their method tables, and calls the
saved originals from its own C code; the recorder has replaced the same entries with its
wrappers (typepatch), so one of them calls a pointer that is not what it expects."""
import datetime

import time_machine

with time_machine.travel("1980-03-25 16:00:00", tick=False):
    print(datetime.datetime.now().isoformat())
print(datetime.datetime.now().year > 2000)
