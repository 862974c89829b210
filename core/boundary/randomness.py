"""Seeding of ``random``: every generator seeded without an argument gets its seed
from a recorded ``os.urandom`` call, so its whole sequence replays without recording
each number."""
from __future__ import annotations

import os
import sys

SEED_BYTES = 32


def seed(entry, original, tape):
    """Replace ``random.Random.seed`` and reseed the module's global generator."""

    def recorded_seed(self, a=None, version=2):
        if a is None:
            a = int.from_bytes(os.urandom(SEED_BYTES), "big")  # the recorded urandom
        return original(self, a, version)

    recorded_seed.__name__ = recorded_seed.__qualname__ = "seed"
    recorded_seed.__doc__ = original.__doc__
    random_module = sys.modules.get("random")
    generator = getattr(random_module, "_inst", None)
    if generator is not None:
        # random seeded its global generator at import, before this patch existed.
        recorded_seed(generator)
    return recorded_seed
