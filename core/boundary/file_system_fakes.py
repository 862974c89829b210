"""pyfakefs leaves our modules as they are, as it leaves its own.

pyfakefs fakes the file system by walking every module in ``sys.modules`` and swapping each
global that is a file-system module (``os``, ``io``, ``shutil``, ``pathlib``) or function
(``posix.open`` under any name) for its fake. Ours were swapped too: the replay's own
``posix.open`` (the ``/dev/null`` a replayed file's descriptor is made of) became the fake
``os.open``, which asks ``os.umask`` first, a call the recording never made there, and the
replay diverged at the first file the program opened under the fake ("the tape expected
file.tell(4), the program asked for os.umask(0)"); the tape writer's ``os.write`` went to a
fake that knows no real descriptor. What our code does is not the program's, so our modules
join ``Patcher.SKIPMODULES`` (pyfakefs's own modules, ``os`` and ``linecache`` are there)
before it looks for what to swap. The same wrapper runs recording and replaying.
"""
from __future__ import annotations

import sys

from retrace_core.boundary.wrappers import copy_identity

__tracebackhide__ = True

_OURS = "retrace_core"


def _skipping_ours(original):
    def _find_modules(self):
        self.SKIPMODULES.update(module for name, module in list(sys.modules.items())
                                if name.partition(".")[0] == _OURS)
        return original(self)

    return copy_identity(_find_modules, original)


class OursLeftReal:
    """``pyfakefs.fake_filesystem_unittest.Patcher._find_modules``: our modules skipped."""

    record = staticmethod(lambda entry, original, tape: _skipping_ours(original))
    replay = staticmethod(lambda entry, original, player: _skipping_ours(original))
