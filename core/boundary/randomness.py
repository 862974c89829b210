"""Seeding of ``random``: every generator seeded without an argument gets its seed
from a recorded ``os.urandom`` call, so its whole sequence replays without recording
each number."""
from __future__ import annotations

import os
import sys

from retrace_core.boundary.wrappers import copy_identity

SEED_BYTES = 32


class Seed:
    """``random.Random.seed``. The same in both modes: the ``os.urandom`` it reads is a
    boundary call, recorded or replayed."""

    @staticmethod
    def record(entry, original, channel):
        return _seed(original)

    replay = record


def _seed(original):
    """Replace ``random.Random.seed`` and reseed the module's global generator."""

    def seed(self, a=None, version=2):
        if a is None:
            a = int.from_bytes(os.urandom(SEED_BYTES), "big")  # a boundary call
        return original(self, a, version)

    copy_identity(seed, original)
    generator = getattr(sys.modules.get("random"), "_inst", None)
    if generator is not None:
        # random seeded its global generator at import, before this patch existed.
        seed(generator)
    return seed
