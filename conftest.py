"""Root pytest configuration, shared by tests/ and the doctests in src/.

Hypothesis profile: ``dev`` (60 examples) by default, ``ci`` (200) when CI is set, or any
registered one named by LKFRAMES_HYPOTHESIS_PROFILE (``long``: 5 000, for fuzzing runs).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=5_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("LKFRAMES_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)
