"""Known limitation 2: the replay's recorded-source finder ignores the search path
(pytest --import-mode=importlib, as attrs' suite uses it)."""
import sys

import repro_helper  # noqa: F401  (beside this script: a project module, stored in the recording)

print([type(f).__name__ for f in sys.meta_path if f.find_spec("repro_helper", ["/nowhere"]) is not None])
