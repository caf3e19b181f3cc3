"""Fixtures for the quality-gate tests: one SparkSession for the whole test session.

Great Expectations and Spark each take seconds to start, so every test in this folder shares one
session (``get_spark`` reuses an active one, so other folders may share it too) and the GX context
cache in ``expectations.context``; each test still gets its own creditlake home, lake and GX
project through the ``settings`` fixture.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from creditlake.settings import Settings, get_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    from creditlake.spark import get_spark

    return get_spark("creditlake-tests-expectations", get_settings())


@pytest.fixture
def settings(creditlake_home: Path) -> Settings:
    """Settings for a fresh creditlake home (lake, warehouse, GX project and reports)."""
    return get_settings()
