"""Shared tiny generator runs: generated once per test session, read by many tests."""

from __future__ import annotations

import pytest
from generator_helpers import TINY, GeneratorConfig, Run, run_generator


@pytest.fixture(scope="session")
def defective_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Tiny scale with the demo's defect rate and a late transactions file."""
    return run_generator(tmp_path_factory, "defective", TINY)


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Tiny scale without defects or late files, a little larger so loans mature in number."""
    config = GeneratorConfig(
        customers=400, behaviour_events=30_000, defect_rate=0.0, late_source=None, seed=7
    )
    return run_generator(tmp_path_factory, "clean", config)
