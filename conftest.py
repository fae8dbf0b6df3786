"""Root pytest configuration, shared by tests/ and the doctests in src/.

Hypothesis profile: ``dev`` (60 examples) by default, ``ci`` (200) when CI is set, or any
registered one named by LKFRAMES_HYPOTHESIS_PROFILE (``long``: 5 000, for fuzzing runs).
"""

from __future__ import annotations

import os

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from lkframes.testing import open_resources

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


@pytest.fixture(autouse=True)
def _nothing_left_open() -> Iterator[None]:
    """aiostream-style resource check: every test must close what lkframes opened."""
    before = open_resources()
    yield
    after = open_resources()
    assert after == before, f"lkframes resources left open by this test: {after} (before: {before})"
