"""Hypothesis settings for the property tests: deterministic (the same examples on every run) and unhurried."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "greenlight",
    derandomize=True,  # CI and developers see the same examples: a failure is reproducible, never flaky
    database=None,
    deadline=None,  # the 2-core machines are shared; a slow example is not a wrong one
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("greenlight")
